//! Signature verification cost per algorithm, jwt-compact's backends (`rsa` 0.9, `p256`,
//! `ed25519-compact`) against `ring` 0.17, on the same signed tokens. Built for
//! wasm32-wasip2 and run by the project's wasmtime (how the components verify):
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p bench-crypto
//! cargo run --release -p ryd-host --bin run-command -- target/wasm32-wasip2/release/bench-crypto.wasm 300
//! ```
//!
//! Natively too (`cargo run --release -p bench-crypto -- 300`), for the wasm/native ratio.

use jwt_compact::alg::{Ed25519, Es256, ModulusBits, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, Header, UntrustedToken};
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{json, Value};
use std::time::Instant;

fn b64(v: &Value, k: &str) -> Vec<u8> {
    let s = v[k].as_str().unwrap_or_default();
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let d = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => continue,
        } as u32;
        buf = buf << 6 | d;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}

/// Microseconds per call, the median of five rounds of `n / 5`.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    let rounds = 5;
    let per = (n / rounds).max(1);
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / per as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn report<A: Algorithm>(
    name: &str,
    alg: &A,
    sk: &A::SigningKey,
    vk: &A::VerifyingKey,
    ring_alg: &'static dyn VerificationAlgorithm,
    ring_key: &[u8],
    n: u32,
) {
    let claims = Claims::new(json!({"sub": "u", "scope": "ryd ryd:dataset", "client_id": "c"}));
    let token = alg.token(&Header::empty(), &claims, sk).expect("signing");
    let untrusted = UntrustedToken::new(&token).expect("a token");
    let (signed, _) = token.rsplit_once('.').expect("three parts");
    let signature = untrusted.signature_bytes().to_vec();
    let jc = time(n, || {
        alg.validator::<Value>(vk).validate(&untrusted).expect("jwt-compact verifies");
    });
    let ring = time(n, || {
        UnparsedPublicKey::new(ring_alg, ring_key).verify(signed.as_bytes(), &signature).expect("ring verifies");
    });
    println!("{name:<7} jwt-compact {jc:>8.0} µs   ring {ring:>8.0} µs   ({:.1}×)", jc / ring);
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let rng = &mut rand_core::OsRng;
    println!("signature verification, median µs per token ({} per algorithm)", n);

    let (sk, vk) = Rsa::generate(rng, ModulusBits::TwoKibibytes).expect("an RSA key");
    let (sk, vk) = (sk.into_inner(), vk.into_inner());
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    // ring's RSA key form: DER RSAPublicKey is what UnparsedPublicKey takes; components are
    // simpler, so time RSA through the same entry point the application uses.
    let (nb, eb) = (b64(&jwk, "n"), b64(&jwk, "e"));
    let claims = Claims::new(json!({"sub": "u", "scope": "ryd ryd:dataset", "client_id": "c"}));
    let token = Rsa::rs256().token(&Header::empty(), &claims, &sk).expect("signing");
    let untrusted = UntrustedToken::new(&token).expect("a token");
    let (signed, _) = token.rsplit_once('.').expect("three parts");
    let signature = untrusted.signature_bytes().to_vec();
    let jc = time(n, || {
        Rsa::rs256().validator::<Value>(&vk).validate(&untrusted).expect("jwt-compact verifies");
    });
    let ring = time(n, || {
        sig::RsaPublicKeyComponents { n: &nb, e: &eb }
            .verify(&sig::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .expect("ring verifies");
    });
    println!("{:<7} jwt-compact {jc:>8.0} µs   ring {ring:>8.0} µs   ({:.1}×)", "RS256", jc / ring);

    let sk = <Es256 as Algorithm>::SigningKey::random(rng);
    let vk = *sk.verifying_key();
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    let point = [vec![4], b64(&jwk, "x"), b64(&jwk, "y")].concat();
    report("ES256", &Es256, &sk, &vk, &sig::ECDSA_P256_SHA256_FIXED, &point, n);

    let (sk, vk) = Ed25519::generate(rng);
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    report("EdDSA", &Ed25519, &sk, &vk, &sig::ED25519, &b64(&jwk, "x"), n);
}
