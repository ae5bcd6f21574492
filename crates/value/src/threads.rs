//! Independent pieces of work spread over a few threads, with results in input order.
//!
//! Used where a render has many independent inputs (manifests whose heads are read, a chart's
//! archived subcharts): results come back in order, so the first error is the one a
//! sequential pass reports. Work that is mostly allocation gains little or nothing here: the
//! `rudder` binary's one malloc arena serves all threads under one lock (templates are parsed
//! on one thread for that reason, see `Templates::parse_all` in rudder-gotmpl).
//!
//! Helper threads get the same large stack as the work that calls them, because reading YAML
//! recurses as deep as its input allows (Go's limits: 10000 levels), and a default thread
//! stack overflows long before that.

/// The stack the `rudder` binary gives its work, and helper threads here: deep enough for
/// input at Go's nesting limits. Only the pages touched are committed.
pub const WORK_STACK: usize = 1 << 30;

/// The processors this process may run on, found once. std's `available_parallelism` reads
/// the cgroup's CPU quota from /proc and /sys on every call: tens of microseconds, 2-3% of
/// rendering a small chart when every batch of work asked.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `items.iter().map(f).collect()`, on up to `max_threads` threads when the items' total
/// `size` is large: one more thread per `size_per_thread`. Items are cut into contiguous
/// chunks, several per thread, that the threads (the calling one among them) claim one at a
/// time: the cost of an item is not proportional to its size (a template of long text
/// parses faster per byte than one of dense actions), so fixed equal shares left one thread
/// working long after the other had finished. A thread that cannot be started leaves its
/// chunks to the others.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    size: impl Fn(&T) -> usize,
    size_per_thread: usize,
    max_threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    /// Chunks per thread: enough to even out the threads' finishing times, few enough that
    /// claiming one costs nothing next to its work.
    const CHUNKS_PER_THREAD: usize = 4;
    let total: usize = items.iter().map(&size).sum();
    let wanted = max_threads.min(total / size_per_thread.max(1));
    // Small batches never ask for the cores at all.
    let threads = if wanted > 1 { cores().min(wanted) } else { 1 };
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let share = total.div_ceil(threads * CHUNKS_PER_THREAD).max(1);
    let mut chunks: Vec<&[T]> = Vec::with_capacity(threads * CHUNKS_PER_THREAD + 1);
    let (mut start, mut chunk_size) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        chunk_size += size(item);
        if chunk_size >= share {
            chunks.push(&items[start..=i]);
            (start, chunk_size) = (i + 1, 0);
        }
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    // A mutex per chunk only to hand its results across threads (`R` need not be `Sync`);
    // each is locked once, by the thread that mapped the chunk.
    let results: Vec<std::sync::Mutex<Option<Vec<R>>>> =
        chunks.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(chunk) = chunks.get(i) else { break };
        let mapped = chunk.iter().map(&f).collect();
        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(mapped);
    };
    run_on(threads, WORK_STACK, work);
    results
        .into_iter()
        .flat_map(|chunk| {
            chunk
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every chunk is claimed and mapped")
        })
        .collect()
}

/// Runs `work` on `threads` threads, the calling one among them, and returns when all are
/// done; the others get `stack` bytes of stack. `work` shares itself out (claiming jobs from
/// a counter, say). A thread that cannot be started leaves the work to the others; a panic in
/// any is raised again here.
pub fn run_on(threads: usize, stack: usize, work: impl Fn() + Sync) {
    let work = &work;
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(stack)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        work();
        for helper in helpers {
            if let Err(panic) = helper.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_whatever_the_split() {
        let items: Vec<usize> = (0..1000).collect();
        for per_thread in [1, 7, 100, 10_000] {
            let out = map_in_order(&items, |_| 1, per_thread, 4, |&i| i * 2);
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
        assert!(map_in_order(&[] as &[usize], |_| 1, 1, 4, |&i| i).is_empty());
    }

    #[test]
    fn helper_threads_have_the_work_stack() {
        // Deep recursion that overflows a default 2 MiB thread stack.
        fn depth(n: usize) -> usize {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                pad[0] as usize
            } else {
                1 + depth(n - 1) + pad[n % 1024] as usize
            }
        }
        let items = vec![10_000usize; 8];
        // The calling thread runs the first share itself, so it needs the stack too.
        let out = std::thread::Builder::new()
            .stack_size(WORK_STACK)
            .spawn(move || map_in_order(&items, |_| 1, 1, 4, |&n| depth(n)))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out, vec![10_000; 8]);
    }
}
