//! Parses every template file under the given folders once and counts the allocations made
//! (a profiling aid: run it under callgrind for the parser's instruction count).
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args().skip(1) {
        walk(std::path::Path::new(&dir), &mut files);
    }
    files.sort();
    let total: usize = files.iter().map(|(_, t)| t.len()).sum();
    let known = |_: &str| true;
    let before = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let mut failed = 0;
    let mut kept = Vec::with_capacity(files.len());
    for (name, text) in &files {
        let parsed = rudder_gotmpl::parse::parse(name, text, &known);
        failed += usize::from(parsed.is_err());
        kept.push(parsed);
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - before.0;
    let bytes = BYTES.load(Ordering::Relaxed) - before.1;
    println!(
        "{} files ({failed} failed), {total} bytes: {allocs} allocations, {bytes} bytes allocated",
        files.len()
    );
    sizes();
    if std::env::var_os("CENSUS").is_some() {
        census(&kept);
    }
    std::mem::forget(kept);
}

fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.components().any(|c| c.as_os_str() == "templates")
            && matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("tpl" | "yaml" | "txt")
            )
        {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

#[derive(Default, Debug)]
struct Census {
    lists: usize,
    list_nodes: usize,
    pipes: usize,
    cmds: usize,
    args: usize,
    field_vecs: usize,
    field_names: usize,
    numbers: usize,
    boxed_pipes: usize,
    chains: usize,
    decls: usize,
}

use rudder_gotmpl::parse::{Arg, ArgKind, List, Node, Pipe};

fn census_list(c: &mut Census, l: &List) {
    c.lists += 1;
    c.list_nodes += l.len();
    for n in l {
        match n {
            Node::Action { pipe, .. } => census_pipe(c, pipe),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                census_pipe(c, &b.pipe);
                census_list(c, &b.list);
                if let Some(e) = &b.else_list {
                    census_list(c, e);
                }
            }
            Node::Template { pipe: Some(p), .. } => census_pipe(c, p),
            _ => {}
        }
    }
}

fn census_pipe(c: &mut Census, p: &Pipe) {
    c.pipes += 1;
    c.decls += usize::from(!p.decl.is_empty());
    for cmd in &p.cmds {
        c.cmds += 1;
        for a in &cmd.args {
            census_arg(c, a);
        }
    }
}

fn census_arg(c: &mut Census, a: &Arg) {
    c.args += 1;
    match &a.kind {
        ArgKind::Field(f) | ArgKind::Variable(_, f) if !f.is_empty() => {
            c.field_vecs += 1;
            c.field_names += f.len();
        }
        ArgKind::Number(_) => c.numbers += 1,
        ArgKind::Pipe(p) => {
            c.boxed_pipes += 1;
            census_pipe(c, p)
        }
        ArgKind::Chain(inner, f) => {
            c.chains += 1;
            c.field_vecs += 1;
            c.field_names += f.len();
            census_arg(c, inner)
        }
        _ => {}
    }
}

pub fn census(parsed: &[Result<rudder_gotmpl::parse::Parsed, rudder_gotmpl::parse::ParseError>]) {
    let mut c = Census::default();
    for p in parsed.iter().flatten() {
        census_list(&mut c, &p.main.root);
        for d in &p.defines {
            census_list(&mut c, &d.root);
        }
    }
    println!("{c:?}");
}
pub fn sizes() {
    use rudder_gotmpl::parse::*;
    println!(
        "Node {} Pipe {} Arg {} ArgKind {} Branch {}",
        std::mem::size_of::<Node>(),
        std::mem::size_of::<Pipe>(),
        std::mem::size_of::<Arg>(),
        std::mem::size_of::<ArgKind>(),
        std::mem::size_of::<Branch>()
    );
}
