//! Fuzzes the GA 467 streaming decoder and the text-block decoder.
//!
//! Run: `cd drivers/fuzz && cargo +nightly fuzz run idcard_frame_decoder`.
//! The first input byte chooses the chunk size the rest is fed in.
#![no_main]

use greenwave_drivers::idcard::frame::FrameDecoder;
use greenwave_drivers::idcard::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = FrameDecoder::new();
    for piece in rest.chunks(chunk) {
        decoder.push(piece);
        let mut steps = 0usize;
        while let Some(item) = decoder.next_frame() {
            steps += 1;
            assert!(steps <= rest.len() + 1, "decoder does not make progress");
            if let Ok(frame) = item {
                let wire = frame.to_wire();
                assert_eq!(&wire[7..wire.len() - 1], frame.body());
                if let Some(resp) = frame.into_response() {
                    if resp.data.len() >= 4 + 256 {
                        let _ = text::decode(&resp.data[4..4 + 256]);
                    }
                }
            }
        }
    }
});
