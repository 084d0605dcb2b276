//! Property tests of the GA 467 frame decoder and the text block decoder.

use greenwave_drivers::idcard::frame::{encode_command, encode_response, FrameDecoder};
use greenwave_drivers::idcard::text;
use proptest::prelude::*;

/// Feeds `stream` cut at `cuts` and drains every frame; returns the bodies.
fn feed(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut d = FrameDecoder::new();
    let mut out = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.push(0);
    points.push(stream.len());
    points.sort_unstable();
    for w in points.windows(2) {
        d.push(&stream[w[0]..w[1]]);
        // Bounded: each call consumes at least one byte or returns None.
        let mut guard = 0;
        while let Some(item) = d.next_frame() {
            if let Ok(f) = item {
                out.push(f.into_body());
            }
            guard += 1;
            assert!(guard <= stream.len() + 1, "decoder loops");
        }
    }
    out
}

/// Bytes biased towards preamble bytes, to exercise resynchronisation.
fn noisy_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>(),
            1 => prop::sample::select(vec![0xAAu8, 0x96, 0x69, 0x00, 0xFF]),
        ],
        0..max,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in noisy_bytes(3000), cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let _ = feed(&bytes, &cuts);
    }

    #[test]
    fn a_frame_survives_garbage_and_chunking(
        garbage in noisy_bytes(300),
        sw3 in any::<u8>(),
        data in prop::collection::vec(any::<u8>(), 0..1400),
        is_command in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let frame = if is_command {
            encode_command(sw3, 0x01, &data)
        } else {
            encode_response(sw3, &data)
        };
        let mut stream = garbage.clone();
        stream.extend_from_slice(&frame);
        let frames = feed(&stream, &cuts);
        let expected: Vec<u8> = frame[7..frame.len() - 1].to_vec();
        prop_assert_eq!(frames.last(), Some(&expected));
    }

    #[test]
    fn arbitrary_text_blocks_never_panic(block in prop::collection::vec(any::<u8>(), 256)) {
        let _ = text::decode(&block);
    }

    #[test]
    fn text_of_any_kind_round_trips(seed in 0u32..100_000, kind in 0u8..4) {
        use greenwave_drivers::idcard::sim::fake;
        let card = match kind {
            0 => fake::resident(seed),
            1 => fake::permit(seed),
            2 => fake::foreign_2017(seed),
            _ => fake::foreign_2023(seed),
        };
        prop_assert_eq!(text::decode(&text::encode(&card)).ok(), Some(card));
    }
}
