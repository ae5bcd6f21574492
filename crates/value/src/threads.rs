//! Independent pieces of work spread over a few threads, with results in input order.
//!
//! Used where a render has many independent inputs (template files to parse, manifests whose
//! heads are read): results come back in order, so the first error is the one a sequential
//! pass reports. Helper threads get the same large stack as the work that calls them, because
//! parsing templates and reading YAML recurse as deep as their input allows (Go's limits:
//! 10000 levels), and a default thread stack overflows long before that.

/// The stack the `rudder` binary gives its work, and helper threads here: deep enough for
/// input at Go's nesting limits. Only the pages touched are committed.
pub const WORK_STACK: usize = 1 << 30;

/// `items.iter().map(f).collect()`, on up to `max_threads` threads when the items' total
/// `size` is large: one more thread per `size_per_thread`. Items are split into contiguous
/// runs of about equal size; the calling thread takes the first. A thread that cannot be
/// started leaves its run to the calling thread.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    size: impl Fn(&T) -> usize,
    size_per_thread: usize,
    max_threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let total: usize = items.iter().map(&size).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(max_threads)
        .min(total / size_per_thread.max(1))
        .max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let share = total.div_ceil(threads);
    let mut runs: Vec<&[T]> = Vec::with_capacity(threads);
    let (mut start, mut run_size) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        run_size += size(item);
        if run_size >= share && runs.len() + 1 < threads {
            runs.push(&items[start..=i]);
            (start, run_size) = (i + 1, 0);
        }
    }
    runs.push(&items[start..]);
    let f = &f;
    let map_run = move |run: &[T]| run.iter().map(f).collect::<Vec<R>>();
    std::thread::scope(|scope| {
        let others: Vec<_> = runs[1..]
            .iter()
            .map(|&run| {
                let spawned = std::thread::Builder::new()
                    .stack_size(WORK_STACK)
                    .spawn_scoped(scope, move || map_run(run));
                (run, spawned)
            })
            .collect();
        let mut all = map_run(runs[0]);
        for (run, spawned) in others {
            match spawned {
                Ok(handle) => match handle.join() {
                    Ok(results) => all.extend(results),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => all.extend(map_run(run)),
            }
        }
        all
    })
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
