//! Display width, wrapping and clean-up of printed text.
//!
//! On a GB18030 printer an ASCII character is printed from the half-width
//! font (one column) and every multi-byte character (CJK, full-width
//! punctuation, `·`, `…`) from the full-width font (two columns). The width
//! of a character is therefore exactly "1 if ASCII else 2", which is what the
//! printer does, unlike Unicode's East Asian Width tables that call `·` narrow.

/// Columns a character takes on the printer at normal size.
pub fn char_width(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

/// Columns a string takes on the printer at normal size.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Replaces control characters (which would be taken as printer commands or
/// break the layout) by spaces and trims the result.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

const ELLIPSIS: char = '…';

/// Splits `text` into lines of at most `columns` display columns, never
/// cutting a character in half. At most `max_lines` lines are returned; when
/// text is left over, the last line ends with `…`. Control characters become
/// spaces, and lines are trimmed. An empty text gives no line.
pub fn wrap(text: &str, columns: usize, max_lines: usize) -> Vec<String> {
    let columns = columns.max(2);
    let clean = sanitize(text);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut width = 0;
    for c in clean.chars() {
        let w = char_width(c);
        if width + w > columns {
            lines.push(current.trim().to_owned());
            current = String::new();
            width = 0;
            if c == ' ' {
                continue;
            }
        }
        current.push(c);
        width += w;
    }
    let rest = current.trim();
    if !rest.is_empty() {
        lines.push(rest.to_owned());
    }
    lines.retain(|l| !l.is_empty());
    if max_lines > 0 && lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while display_width(last) + char_width(ELLIPSIS) > columns {
                if last.pop().is_none() {
                    break;
                }
            }
            last.push(ELLIPSIS);
        }
    }
    lines
}

/// True when `s` holds 15 or more consecutive ASCII digits (optionally
/// followed by `X`): the shape of a resident ID number, which a ticket must
/// never carry.
pub(crate) fn looks_like_id_number(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        let c = match c {
            '０'..='９' => '0',
            other => other,
        };
        if c.is_ascii_digit() {
            run += 1;
            if run >= 15 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(display_width("GA012"), 5);
        assert_eq!(display_width("前面还有 3 人"), 13);
        assert_eq!(display_width("·"), 2);
    }

    #[test]
    fn wrap_never_cuts_a_character() {
        let lines = wrap("一二三四五", 5, 0);
        assert_eq!(lines, vec!["一二", "三四", "五"]);
        assert!(lines.iter().all(|l| display_width(l) <= 5));
    }

    #[test]
    fn wrap_truncates_with_ellipsis() {
        let lines = wrap("一二三四五六七八", 8, 1);
        assert_eq!(lines, vec!["一二三…"]);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(wrap("a\x1b@b\nc", 32, 0), vec!["a @b c"]);
    }

    #[test]
    fn id_numbers_are_spotted() {
        assert!(looks_like_id_number("11010519491231002X"));
        assert!(!looks_like_id_number("热线 12345"));
        assert!(!looks_like_id_number("0571-87654321"));
    }
}

/// Replaces every run of 15 or more digits by as many `*`: a last line of
/// defence so that an ID number passed by mistake is never printed.
pub(crate) fn scrub_id_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 15 {
            out.extend(std::iter::repeat_n('*', run.chars().count()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod scrub_tests {
    #[test]
    fn scrubs_long_digit_runs_only() {
        assert_eq!(
            super::scrub_id_numbers("a110105194912310021b 12345"),
            "a******************b 12345"
        );
    }
}
