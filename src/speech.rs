//! What the hall says, as words a Mandarin voice reads right: pure.
//!
//! Sentences are made in Chinese ([`call_sentence`], [`number_words`]):
//! a ticket number is read one character at a time as halls read it
//! (`GA012` → `G A 零 一 二`), a window as a number (`三号窗口`). For
//! espeak-ng, whose Mandarin voice reads Latin letters and digits as
//! English, [`to_pinyin`] turns a sentence into tone-numbered pinyin for
//! its `cmn-latn-pinyin` voice: every syllable is then Mandarin, letters
//! included (`G` → `ji4`, as Chinese speakers say the letter). The `pinyin`
//! crate gives each character's usual reading; [`PHRASES`] fixes the words
//! of greenwave's sentences where the usual reading is wrong (`重新` is
//! `chong2 xin1`, not `zhong4 xin1`).

use pinyin::ToPinyin;

use crate::queue::Lane;

/// How the priority lane is read out.
pub const PRIORITY_LANE: &str = "绿波通道";

/// The words of a call (and of a recall, which repeats it):
/// `请 G A 零 一 二 号，到 三 号窗口办理`, with the lane first for a
/// priority ticket: `请 绿波通道 G A 零 一 二 号，到 三 号窗口办理`.
pub fn call_sentence(number: &str, lane: Lane, window: u32) -> String {
    let who = number_words(number);
    let at = format!("到 {} 号窗口办理", chinese_number(window));
    match lane {
        Lane::Priority => format!("请 {PRIORITY_LANE} {who} 号，{at}"),
        Lane::Appointment | Lane::Normal => format!("请 {who} 号，{at}"),
    }
}

/// A ticket number read one character at a time: `GA012` → `G A 零 一 二`.
pub fn number_words(number: &str) -> String {
    number
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => DIGITS[d as usize].to_string(),
            None => c.to_ascii_uppercase().to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const DIGIT_PINYIN: [&str; 10] = [
    "ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3",
];

/// A number as Chinese numerals (`3` → `三`, `12` → `十二`, `20` → `二十`,
/// `105` → `一百零五`), for windows and counts.
pub fn chinese_number(n: u32) -> String {
    if n < 10 {
        return DIGITS[n as usize].to_string();
    }
    if n < 20 {
        return format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        );
    }
    if n < 100 {
        let ones = if n.is_multiple_of(10) {
            ""
        } else {
            DIGITS[(n % 10) as usize]
        };
        return format!("{}十{ones}", DIGITS[(n / 10) as usize]);
    }
    if n < 1000 {
        let rest = n % 100;
        let tail = match rest {
            0 => String::new(),
            1..=9 => format!("零{}", DIGITS[rest as usize]),
            10..=19 => format!("一{}", chinese_number(rest)),
            _ => chinese_number(rest),
        };
        return format!("{}百{tail}", DIGITS[(n / 100) as usize]);
    }
    number_words(&n.to_string()).replace(' ', "")
}

/// Words whose usual reading is wrong in greenwave's sentences.
pub const PHRASES: &[(&str, &str)] = &[
    ("重新", "chong2 xin1"),
    ("是否为", "shi4 fou3 wei2"),
    ("还有", "hai2 you3"),
    ("银行", "yin2 hang2"),
    ("行动", "xing2 dong4"),
];

/// Latin letters as Chinese speakers name them, in pinyin.
fn letter(c: char) -> &'static str {
    match c.to_ascii_uppercase() {
        'A' => "ei1",
        'B' => "bi4",
        'C' => "xi1",
        'D' => "di4",
        'E' => "yi4",
        'F' => "ai2 fu1",
        'G' => "ji4",
        'H' => "ai1 qi1",
        'I' => "ai4",
        'J' => "jie4",
        'K' => "kai4",
        'L' => "ai2 le5",
        'M' => "ai2 mu5",
        'N' => "en1",
        'O' => "ou1",
        'P' => "pi4",
        'Q' => "kiu1",
        'R' => "a4",
        'S' => "ai2 si1",
        'T' => "ti4",
        'U' => "you1",
        'V' => "wei1",
        'W' => "da2 bu5 liu1",
        'X' => "ai2 ke4 si1",
        'Y' => "wai4",
        _ => "zei4",
    }
}

/// A sentence as tone-numbered pinyin for espeak-ng's `cmn-latn-pinyin`
/// voice: characters by the [`PHRASES`] or their usual reading, letters by
/// their Chinese names, digits one by one, punctuation as pauses (`,` and
/// `.`); anything else is left out.
pub fn to_pinyin(sentence: &str) -> String {
    let chars: Vec<char> = sentence.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some((phrase, reading)) = PHRASES.iter().find(|(p, _)| starts_with(&chars[i..], p)) {
            out.push(reading.to_string());
            i += phrase.chars().count();
            continue;
        }
        let c = chars[i];
        match c {
            c if c.is_ascii_alphabetic() => out.push(letter(c).to_string()),
            c if c.is_ascii_digit() => {
                out.push(DIGIT_PINYIN[c.to_digit(10).unwrap_or(0) as usize].to_string())
            }
            '，' | ',' | '、' | '；' | ';' | '：' | ':' => push_pause(&mut out, ","),
            '。' | '.' | '！' | '!' | '？' | '?' => push_pause(&mut out, "."),
            c => {
                if let Some(p) = c.to_pinyin() {
                    out.push(p.with_tone_num_end().to_string());
                }
            }
        }
        i += 1;
    }
    let mut s = out.join(" ");
    s = s.replace(" ,", ",").replace(" .", ".");
    s.trim_end_matches([',', ' ']).to_string()
}

fn starts_with(chars: &[char], phrase: &str) -> bool {
    let p: Vec<char> = phrase.chars().collect();
    chars.len() >= p.len() && chars[..p.len()] == p[..]
}

fn push_pause(out: &mut [String], mark: &str) {
    if let Some(last) = out.last_mut() {
        if !last.ends_with([',', '.']) {
            last.push_str(mark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_number_is_read_one_character_at_a_time() {
        assert_eq!(number_words("GA012"), "G A 零 一 二");
        assert_eq!(number_words("A105"), "A 一 零 五");
    }

    #[test]
    fn windows_are_read_as_numbers() {
        let read = |n| chinese_number(n);
        assert_eq!(
            [1, 3, 10, 12, 20, 21, 30, 100, 105, 110, 999].map(read),
            [
                "一",
                "三",
                "十",
                "十二",
                "二十",
                "二十一",
                "三十",
                "一百",
                "一百零五",
                "一百一十",
                "九百九十九"
            ]
        );
    }

    #[test]
    fn calls_name_the_lane_the_number_and_the_window() {
        assert_eq!(
            call_sentence("GA012", Lane::Priority, 3),
            "请 绿波通道 G A 零 一 二 号，到 三 号窗口办理"
        );
        assert_eq!(
            call_sentence("B105", Lane::Normal, 12),
            "请 B 一 零 五 号，到 十二 号窗口办理"
        );
    }

    #[test]
    fn sentences_become_mandarin_pinyin_throughout() {
        assert_eq!(
            to_pinyin(&call_sentence("GA012", Lane::Priority, 3)),
            "qing3 lü4 bo1 tong1 dao4 ji4 ei1 ling2 yi1 er4 hao4, dao4 san1 hao4 chuang1 kou3 ban4 li3"
        );
        assert_eq!(
            to_pinyin("您已取号，已为您重新打印。请取票"),
            "nin2 yi3 qu3 hao4, yi3 wei4 nin2 chong2 xin1 da3 yin4. qing3 qu3 piao4"
        );
        assert_eq!(
            to_pinyin("无法识别此卡，请确认是否为优先卡"),
            "wu2 fa3 shi2 bie2 ci3 ka3, qing3 que4 ren4 shi4 fou3 wei2 you1 xian1 ka3"
        );
    }
}
