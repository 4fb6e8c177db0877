//! Inline emphasis: which parts of two (already visible-escaped) strings differ, via `similar`.

use std::time::Duration;

use serde::Serialize;
use similar::{DiffTag, TextDiff};

/// A byte range of a visible-escaped cell text to emphasise (`start..end`, UTF-8 byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// How values are compared for emphasis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ids, amounts, accounts, dates: one changed digit is emphasised alone.
    Chars,
    /// Free text: whole words.
    Words,
}

/// Bounds the work on hostile input (a huge value with no common part); past it the diff is coarser, never wrong.
const TIMEOUT: Duration = Duration::from_millis(200);

/// Emphasis spans on the old and the new side.
pub fn emphasis(old: &str, new: &str, mode: Mode) -> (Vec<Span>, Vec<Span>) {
    if old == new {
        return (Vec::new(), Vec::new());
    }
    let mut config = TextDiff::configure();
    config.timeout(TIMEOUT);
    let diff = match mode {
        Mode::Chars => config.diff_chars(old, new),
        Mode::Words => config.diff_words(old, new),
    };
    let offsets = |slices: &mut dyn Iterator<Item = &str>| {
        let mut at = vec![0usize];
        let mut pos = 0;
        for s in slices {
            pos += s.len();
            at.push(pos);
        }
        at
    };
    let old_at = offsets(&mut diff.iter_old_slices());
    let new_at = offsets(&mut diff.iter_new_slices());
    let mut segments: Vec<Segment> = diff
        .ops()
        .iter()
        .map(|op| {
            let (tag, o, n) = op.as_tag_tuple();
            Segment {
                changed: tag != DiffTag::Equal,
                old: old_at[o.start]..old_at[o.end],
                new: new_at[n.start]..new_at[n.end],
            }
        })
        .collect();
    absorb_short_equalities(&mut segments, old, new);
    let (mut old_spans, mut new_spans) = (Vec::new(), Vec::new());
    for seg in segments.iter().filter(|s| s.changed) {
        if !seg.old.is_empty() {
            push(&mut old_spans, seg.old.start, seg.old.end);
        }
        if !seg.new.is_empty() {
            push(&mut new_spans, seg.new.start, seg.new.end);
        }
    }
    (old_spans, new_spans)
}

struct Segment {
    changed: bool,
    old: std::ops::Range<usize>,
    new: std::ops::Range<usize>,
}

/// An equal run between two changes that is no longer than either change is noise to a reader
/// (`18` → `31` keeps the `1`): emphasise it with its neighbours, as diff-match-patch's semantic cleanup does.
fn absorb_short_equalities(segments: &mut [Segment], old: &str, new: &str) {
    let size = |seg: &Segment| old[seg.old.clone()].chars().count().max(new[seg.new.clone()].chars().count());
    for i in 1..segments.len().saturating_sub(1) {
        let (prev, this, next) = (&segments[i - 1], &segments[i], &segments[i + 1]);
        if !this.changed && prev.changed && next.changed {
            let len = old[this.old.clone()].chars().count();
            if len <= size(prev) && len <= size(next) {
                segments[i].changed = true;
            }
        }
    }
}

/// Append a span, merging it with the previous one when they touch.
fn push(spans: &mut Vec<Span>, start: usize, end: usize) {
    if let Some(last) = spans.last_mut()
        && last.end == start
    {
        last.end = end;
        return;
    }
    spans.push(Span { start, end });
}

/// Free-text fields compare by words; everything else (ids, amounts, accounts, dates) by characters.
pub fn mode_for(field: &str, old: &str, new: &str) -> Mode {
    const TEXT_HINTS: [&str; 6] = ["Description", "Text", "Name", "Comment", "Note", "Justification"];
    let texty = TEXT_HINTS.iter().any(|h| field.contains(h));
    let long_with_spaces = |s: &str| s.len() > 24 && s.contains(' ');
    if texty || long_with_spaces(old) || long_with_spaces(new) { Mode::Words } else { Mode::Chars }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_digit_is_emphasised_alone() {
        let (old, new) = emphasis("1250.00", "1350.00", Mode::Chars);
        assert_eq!(old, vec![Span { start: 1, end: 2 }]);
        assert_eq!(new, vec![Span { start: 1, end: 2 }]);
    }

    #[test]
    fn words_mode_emphasises_whole_words() {
        let (old, new) = emphasis("Office supplies March", "Office furniture March", Mode::Words);
        assert_eq!(&"Office supplies March"[old[0].start..old[0].end], "supplies");
        assert_eq!(&"Office furniture March"[new[0].start..new[0].end], "furniture");
    }
}
