//! The engine never panics or overflows its stack, whatever the input: random templates
//! assembled from template syntax, and pathological nesting. (A coverage-guided fuzz target
//! lives in fuzz/; this deterministic test keeps the property checked in every CI run.)

use rudder_gotmpl::{ExecOptions, FuncMap, Function, MissingKey, ParamType, Signature, Templates};
use rudder_value::Value;

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define \"d\"",
    "template \"d\" .",
    "block \"b\" .",
    "break",
    "continue",
    ".",
    ".a",
    ".b.c",
    "$",
    "$x",
    "$x :=",
    "$x =",
    "|",
    "(",
    ")",
    "\"s\"",
    "`r`",
    "'c'",
    "1",
    "-2",
    "3.5",
    "0x1F",
    "1e3",
    "true",
    "nil",
    "eq",
    "ne",
    "lt",
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf \"%d %s\"",
    "upper",
    "include \"d\"",
    "/*",
    "*/",
    ",",
    "=",
    ":=",
    "x",
    "{",
];

fn funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert(
        "upper",
        Function::new(Signature::new(&[ParamType::String]), |_, a| {
            Ok(Value::from(
                a[0].as_str().unwrap_or_default().to_uppercase(),
            ))
        }),
    );
    f.insert(
        "include",
        Function::new(
            Signature::new(&[ParamType::String, ParamType::Any]),
            |rt, a| rt.execute_named(a[0].as_str().unwrap_or_default(), &a[1]),
        ),
    );
    f
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn data() -> Value {
    rudder_value::yaml::from_yaml("a: 1\nb: {c: [1, 2]}\n").expect("valid yaml")
}

fn run(text: &str, funcs: &FuncMap) {
    let mut set = Templates::new();
    if set.parse("t", text, funcs).is_ok() {
        let opts = ExecOptions {
            missing_key: MissingKey::Zero,
            max_depth: 500,
            ..ExecOptions::default()
        };
        let _ = set.execute("t", &data(), funcs, &opts);
    }
}

#[test]
fn random_templates_never_panic() {
    let funcs = funcs();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let n = 1 + (rng.next() % 24) as usize;
        let text: String = (0..n)
            .map(|_| PIECES[(rng.next() % PIECES.len() as u64) as usize])
            .collect();
        run(&text, &funcs);
    }
}

/// Runs `f` on a thread with the stack size rudder's CLI gives renders.
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    with_big_stack(deep_nesting);
}

fn deep_nesting() {
    let funcs = funcs();
    // Deeper than Go's parser allows: an error, not a crash.
    let too_deep = format!("{{{{ {}1{} }}}}", "(".repeat(20_000), ")".repeat(20_000));
    let err = Templates::new()
        .parse("t", &too_deep, &funcs)
        .expect_err("too deep");
    assert!(
        err.to_string().contains("max expression depth exceeded"),
        "{err}"
    );
    let deep_if = "{{ if true }}".repeat(5_000) + &"{{ end }}".repeat(5_000);
    run(&deep_if, &funcs);
    let deep_parens = format!("{{{{ {}1{} }}}}", "(".repeat(5_000), ")".repeat(5_000));
    run(&deep_parens, &funcs);
    // Unbounded recursion through `template` stops at the depth limit.
    let mut set = Templates::new();
    set.parse(
        "t",
        "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}",
        &funcs,
    )
    .expect("parses");
    let opts = ExecOptions {
        max_depth: 500,
        ..ExecOptions::default()
    };
    let err = set
        .execute("t", &data(), &funcs, &opts)
        .expect_err("must stop");
    assert!(
        err.to_string()
            .contains("exceeded maximum template depth (500)"),
        "{err}"
    );
}
