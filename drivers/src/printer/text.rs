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

/// Punctuation that must not begin a line (Chinese line breaking): a line
/// break before one carries the word before it over too.
fn no_line_start(c: char) -> bool {
    matches!(
        c,
        '、' | '，'
            | '。'
            | '：'
            | '；'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '”'
            | '’'
            | '》'
            | '〉'
            | '】'
            | '…'
            | ','
            | '.'
            | ':'
            | ';'
            | '!'
            | '?'
            | ')'
    )
}

/// Punctuation that must not end a line: it goes over with the word after it.
fn no_line_end(c: char) -> bool {
    matches!(
        c,
        '（' | '「' | '『' | '“' | '‘' | '《' | '〈' | '【' | '(' | '['
    )
}

/// The pieces a line may be broken between: a run of spaces, a run of
/// other ASCII characters (a word, a number: `0571-12345` stays whole when
/// it fits on a line), or one other character.
fn pieces(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let same = |d: char| match (c == ' ', c.is_ascii()) {
            (true, _) => d == ' ',
            (false, true) => d.is_ascii() && d != ' ',
            (false, false) => false,
        };
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !same(d) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        out.push(&s[i..end]);
    }
    out
}

/// Lines being filled, up to `columns` display columns each.
struct Filler {
    columns: usize,
    lines: Vec<String>,
    current: String,
    /// Where the last piece of `current` starts.
    last: usize,
}

impl Filler {
    fn width(&self) -> usize {
        display_width(&self.current)
    }

    fn push(&mut self, piece: &str) {
        self.last = self.current.len();
        self.current.push_str(piece);
    }

    fn end_line(&mut self) {
        let line = self.current.trim();
        if !line.is_empty() {
            self.lines.push(line.to_owned());
        }
        self.current.clear();
        self.last = 0;
    }

    /// A piece that does not fit on the current line starts the next one,
    /// with the current line's last word when the break would otherwise
    /// put closing punctuation first or leave opening punctuation last.
    fn next_line_with(&mut self, piece: &str) {
        let tail = &self.current[self.last..];
        let awkward = piece.chars().next().is_some_and(no_line_start)
            || tail.chars().last().is_some_and(no_line_end);
        let carry = awkward
            && self.last > 0
            && !tail.starts_with(' ')
            && display_width(tail) + display_width(piece) <= self.columns;
        let carried = if carry {
            let t = tail.to_owned();
            self.current.truncate(self.last);
            t
        } else {
            String::new()
        };
        self.end_line();
        if !carried.is_empty() {
            self.push(&carried);
        }
        self.push(piece);
    }

    fn add(&mut self, piece: &str) {
        let w = display_width(piece);
        if self.width() + w <= self.columns {
            if !(piece.starts_with(' ') && self.current.is_empty()) {
                self.push(piece);
            }
        } else if piece.starts_with(' ') {
            self.end_line();
        } else if w > self.columns {
            // Longer than a line (a long URL): broken where the line ends.
            for c in piece.chars() {
                if self.width() + char_width(c) > self.columns {
                    self.end_line();
                }
                self.current.push(c);
            }
            self.last = 0;
        } else {
            self.next_line_with(piece);
        }
    }
}

/// Splits `text` into lines of at most `columns` display columns, never
/// cutting a character in half, and an ASCII word or number only when it
/// is longer than a line; closing punctuation (`、`, `，`, `。`…) never
/// begins a line. At most `max_lines` lines are returned (`0`: no limit);
/// when text is left over, the last line ends with `…`. Control characters
/// become spaces, and lines are trimmed. An empty text gives no line.
pub fn wrap(text: &str, columns: usize, max_lines: usize) -> Vec<String> {
    let columns = columns.max(2);
    let clean = sanitize(text);
    let mut filler = Filler {
        columns,
        lines: Vec::new(),
        current: String::new(),
        last: 0,
    };
    for piece in pieces(&clean) {
        filler.add(piece);
    }
    filler.end_line();
    let mut lines = filler.lines;
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

/// [`wrap`] with no limit, over as few lines as at `columns` but with the
/// lines as even as that allows (a heading wrapped as `朝阳区政务` /
/// `服务中心`, not `朝阳区政务服务中` / `心`).
pub(crate) fn wrap_balanced(text: &str, columns: usize) -> Vec<String> {
    let mut best = wrap(text, columns, 0);
    let count = best.len();
    if count < 2 {
        return best;
    }
    for narrower in (2..columns).rev() {
        let lines = wrap(text, narrower, 0);
        if lines.len() > count {
            break;
        }
        best = lines;
    }
    best
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
    fn closing_punctuation_never_begins_a_line() {
        // `、` would begin the second line: the word before goes with it.
        let lines = wrap("请携带：身份证、户口簿", 14, 0);
        assert_eq!(lines, vec!["请携带：身份", "证、户口簿"]);
        assert!(lines.iter().all(|l| display_width(l) <= 14));
        // Opening punctuation never ends one.
        assert_eq!(wrap("一二（三四）", 6, 0), vec!["一二", "（三", "四）"]);
    }

    #[test]
    fn numbers_and_words_stay_whole_when_they_fit() {
        assert_eq!(
            wrap("咨询热线 0571-87654321", 16, 0),
            vec!["咨询热线", "0571-87654321"]
        );
        assert_eq!(
            wrap("热线0571-87654321", 16, 0),
            vec!["热线", "0571-87654321"]
        );
        // Longer than a line: broken where the line ends, nothing lost.
        let url = "https://gw.example.cn/q/GA012?h=07";
        let lines = wrap(url, 16, 0);
        assert!(lines.iter().all(|l| display_width(l) <= 16));
        assert_eq!(lines.concat(), url);
    }

    #[test]
    fn balanced_lines_are_as_few_and_as_even_as_possible() {
        assert_eq!(
            wrap("朝阳区政务服务中心", 16, 0),
            vec!["朝阳区政务服务中", "心"]
        );
        assert_eq!(
            wrap_balanced("朝阳区政务服务中心", 16),
            vec!["朝阳区政务", "服务中心"]
        );
        assert_eq!(wrap_balanced("朝阳区", 16), vec!["朝阳区"]);
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
