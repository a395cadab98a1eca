#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mugai_fuzz::zip(data));
