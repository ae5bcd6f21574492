//! A line diff that aligns lines the way helm-diff does, so that the same change prints the
//! same `+`/`-` lines: the common head and tail are taken off first, then the middle is
//! split recursively at the point where the longest common subsequence of the two halves
//! is largest (Hirschberg's scheme, linear memory). A general-purpose diff crate (Myers,
//! patience) is as correct but aligns ties differently, which changes the printed lines.

/// Which side a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delta {
    /// In both.
    Common,
    /// Only in the old text (`-`).
    Removed,
    /// Only in the new text (`+`).
    Added,
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub delta: Delta,
    pub text: String,
}

impl Line {
    fn new(delta: Delta, text: &str) -> Line {
        Line {
            delta,
            text: text.to_string(),
        }
    }
}

/// Splits a text into lines as Go's `strings.Split(text, "\n")` does (an empty text is one
/// empty line), dropping a trailing `\r` of each line when asked.
pub fn split(text: &str, strip_trailing_cr: bool) -> Vec<&str> {
    text.split('\n')
        .map(|l| {
            if strip_trailing_cr {
                l.strip_suffix('\r').unwrap_or(l)
            } else {
                l
            }
        })
        .collect()
}

/// The diff of two texts, line by line.
pub fn diff_texts(old: &str, new: &str, strip_trailing_cr: bool) -> Vec<Line> {
    diff_lines(
        &split(old, strip_trailing_cr),
        &split(new, strip_trailing_cr),
    )
}

/// The diff of two sequences of lines.
pub fn diff_lines(old: &[&str], new: &[&str]) -> Vec<Line> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    // The tail never reaches into the head, and (as helm-diff counts it) stops one line short
    // of it on either side.
    let mut tail = 0;
    while old.len() > head + tail + 1
        && new.len() > head + tail + 1
        && old[old.len() - 1 - tail] == new[new.len() - 1 - tail]
    {
        tail += 1;
    }
    let mut out = Vec::with_capacity(old.len().max(new.len()) + 4);
    out.extend(old[..head].iter().map(|l| Line::new(Delta::Common, l)));
    split_diff(
        &old[head..old.len() - tail],
        &new[head..new.len() - tail],
        &mut out,
    );
    out.extend(
        old[old.len() - tail..]
            .iter()
            .map(|l| Line::new(Delta::Common, l)),
    );
    out
}

fn split_diff(old: &[&str], new: &[&str], out: &mut Vec<Line>) {
    if old.is_empty() {
        out.extend(new.iter().map(|l| Line::new(Delta::Added, l)));
        return;
    }
    if new.is_empty() {
        out.extend(old.iter().map(|l| Line::new(Delta::Removed, l)));
        return;
    }
    if old.len() == 1 {
        one_line_against(old[0], new, out);
        return;
    }
    let mid = old.len() / 2;
    let forward = lcs_lengths(old[..mid].iter(), new.iter(), new.len());
    let backward = lcs_lengths(old[mid..].iter().rev(), new.iter().rev(), new.len());
    // The first split point with the largest total wins.
    let mut best = 0;
    let mut best_score = None;
    for j in 0..=new.len() {
        let score = forward[j] + backward[new.len() - j];
        if best_score.is_none_or(|s| score > s) {
            best_score = Some(score);
            best = j;
        }
    }
    split_diff(&old[..mid], &new[..best], out);
    split_diff(&old[mid..], &new[best..], out);
}

/// One old line against several new ones: it is kept where it last occurs in the new lines.
fn one_line_against(line: &str, new: &[&str], out: &mut Vec<Line>) {
    match new.iter().rposition(|l| *l == line) {
        Some(at) => {
            out.extend(new[..at].iter().map(|l| Line::new(Delta::Added, l)));
            out.push(Line::new(Delta::Common, line));
            out.extend(new[at + 1..].iter().map(|l| Line::new(Delta::Added, l)));
        }
        None => {
            out.push(Line::new(Delta::Removed, line));
            out.extend(new.iter().map(|l| Line::new(Delta::Added, l)));
        }
    }
}

/// The last row of the LCS length table of `a` against every prefix of `b`.
fn lcs_lengths<'a>(
    a: impl Iterator<Item = &'a &'a str>,
    b: impl Iterator<Item = &'a &'a str> + Clone,
    b_len: usize,
) -> Vec<usize> {
    let mut prev = vec![0usize; b_len + 1];
    let mut curr = vec![0usize; b_len + 1];
    for x in a {
        for (j, y) in b.clone().enumerate() {
            curr[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(curr[j])
            };
        }
        std::mem::swap(&mut prev, &mut curr);
        curr.iter_mut().for_each(|c| *c = 0);
    }
    prev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| {
                let mark = match l.delta {
                    Delta::Common => ' ',
                    Delta::Removed => '-',
                    Delta::Added => '+',
                };
                format!("{mark}{}\n", l.text)
            })
            .collect()
    }

    #[test]
    fn equal_texts_are_all_common() {
        let d = diff_texts("a\nb\nc", "a\nb\nc", false);
        assert!(d.iter().all(|l| l.delta == Delta::Common));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn a_changed_line_is_removed_then_added() {
        let d = diff_texts("a\nreplicas: 1\nc", "a\nreplicas: 3\nc", false);
        assert_eq!(render(&d), " a\n-replicas: 1\n+replicas: 3\n c\n");
    }

    #[test]
    fn an_addition_against_nothing_keeps_go_split_of_the_empty_text() {
        // Go splits "" into one empty line; it is "common" with a blank line of the new text.
        let d = diff_texts("", "a\n\nb", false);
        assert_eq!(render(&d), "+a\n \n+b\n");
        let d = diff_texts("", "a\nb", false);
        assert_eq!(render(&d), "-\n+a\n+b\n");
    }

    #[test]
    fn the_result_always_rebuilds_both_sides() {
        let old = "x\na\nb\nc\nd\ne\nf\ng";
        let new = "a\nc\nq\nd\ne\ng\nh\nx";
        let d = diff_texts(old, new, false);
        let back_old: Vec<&str> = d
            .iter()
            .filter(|l| l.delta != Delta::Added)
            .map(|l| l.text.as_str())
            .collect();
        let back_new: Vec<&str> = d
            .iter()
            .filter(|l| l.delta != Delta::Removed)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(back_old.join("\n"), old);
        assert_eq!(back_new.join("\n"), new);
        // a, c, d, e, g in common: the longest common subsequence.
        assert_eq!(d.iter().filter(|l| l.delta == Delta::Common).count(), 5);
    }

    #[test]
    fn trailing_carriage_returns_are_dropped_on_request() {
        let d = diff_texts("a\r\nb", "a\nb", true);
        assert!(d.iter().all(|l| l.delta == Delta::Common));
        let d = diff_texts("a\r\nb", "a\nb", false);
        assert!(d.iter().any(|l| l.delta != Delta::Common));
    }
}
