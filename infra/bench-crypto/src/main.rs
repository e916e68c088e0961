// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! Signature verification cost per algorithm: `ring` 0.17 beside jwt-compact's backends (`rsa`
//! 0.9, `p256` 0.13, `ed25519-compact`) and the newer RustCrypto releases that could replace
//! ring (`rsa` 0.10, `p256` 0.14, `ed25519-dalek` 3), on the same signed tokens. Built for
//! wasm32-wasip2 and run by the project's wasmtime (how the components verify):
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p bench-crypto
//! cargo run --release -p ryd-bench --bin run-command -- target/wasm32-wasip2/release/bench-crypto.wasm 300
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

/// A verifier under test: its label and `verify(signed, signature)`, panicking on failure.
type Ours<'a> = (&'a str, &'a dyn Fn(&[u8], &[u8]));

fn report<A: Algorithm>(
    name: &str,
    (alg, sk, vk): (&A, &A::SigningKey, &A::VerifyingKey),
    (ring_alg, ring_key): (&'static dyn VerificationAlgorithm, &[u8]),
    (label, verify): Ours<'_>,
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
    line(name, jc, ring, (label, time(n, || verify(signed.as_bytes(), &signature))));
}

/// One algorithm's row: each backend's median and its ratio to ring.
fn line(name: &str, jc: f64, ring: f64, (label, us): (&str, f64)) {
    println!(
        "{name:<7} ring {ring:>8.0} µs   jwt-compact 0.8 {jc:>8.0} µs ({:.2}× ring)   {label} {us:>8.0} µs ({:.2}× ring)",
        jc / ring,
        us / ring
    );
}

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let rng = &mut rand_core::OsRng;
    println!("signature verification, median µs per token ({} per algorithm)", n);

    let (sk, vk) = Rsa::generate(rng, ModulusBits::TwoKibibytes).expect("an RSA key");
    let (sk, vk) = (sk.into_inner(), vk.into_inner());
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    let (nb, eb) = (b64(&jwk, "n"), b64(&jwk, "e"));
    for (name, alg, ring_alg) in [
        ("RS256", Rsa::rs256(), &sig::RSA_PKCS1_2048_8192_SHA256),
        ("PS256", Rsa::ps256(), &sig::RSA_PSS_2048_8192_SHA256),
    ] {
        let claims = Claims::new(json!({"sub": "u", "scope": "ryd ryd:dataset", "client_id": "c"}));
        let token = alg.token(&Header::empty(), &claims, &sk).expect("signing");
        let untrusted = UntrustedToken::new(&token).expect("a token");
        let (signed, _) = token.rsplit_once('.').expect("three parts");
        let signature = untrusted.signature_bytes().to_vec();
        let jc = time(n, || {
            alg.validator::<Value>(&vk).validate(&untrusted).expect("jwt-compact verifies");
        });
        let ring = time(n, || {
            sig::RsaPublicKeyComponents { n: &nb, e: &eb }
                .verify(ring_alg, signed.as_bytes(), &signature)
                .expect("ring verifies");
        });
        // rsa 0.10 from the same raw components per token, as ring is given them (the
        // application keeps key sets as raw bytes): its Montgomery set-up is part of the price.
        let rc = time(n, || {
            use rsa::signature::Verifier;
            let key = rsa::PublicKey::new(
                rsa::BoxedUint::from_be_slice_vartime(&nb),
                rsa::BoxedUint::from_be_slice_vartime(&eb),
            )
            .expect("rsa 0.10 takes the key");
            let ok = if name == "RS256" {
                let s = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).expect("a signature");
                rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key).verify(signed.as_bytes(), &s)
            } else {
                let s = rsa::pss::Signature::try_from(signature.as_slice()).expect("a signature");
                rsa::pss::VerifyingKey::<rsa::sha2::Sha256>::new(key).verify(signed.as_bytes(), &s)
            };
            ok.expect("rsa 0.10 verifies");
        });
        line(name, jc, ring, ("rsa 0.10", rc));
    }

    let sk = <Es256 as Algorithm>::SigningKey::random(rng);
    let vk = *sk.verifying_key();
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    let point = [vec![4], b64(&jwk, "x"), b64(&jwk, "y")].concat();
    let p256_new = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("p256 0.14 takes the key");
    let es256 = |signed: &[u8], signature: &[u8]| {
        use p256::ecdsa::signature::Verifier;
        let s = p256::ecdsa::Signature::from_slice(signature).expect("a signature");
        p256_new.verify(signed, &s).expect("p256 0.14 verifies");
    };
    report("ES256", (&Es256, &sk, &vk), (&sig::ECDSA_P256_SHA256_FIXED, &point), ("p256 0.14", &es256), n);

    let (sk, vk) = Ed25519::generate(rng);
    let jwk = serde_json::to_value(JsonWebKey::from(&vk)).unwrap_or_default();
    let x: [u8; 32] = b64(&jwk, "x").try_into().expect("32 bytes");
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&x).expect("ed25519-dalek takes the key");
    let eddsa = |signed: &[u8], signature: &[u8]| {
        let s = ed25519_dalek::Signature::from_slice(signature).expect("a signature");
        dalek.verify_strict(signed, &s).expect("ed25519-dalek verifies");
    };
    report("EdDSA", (&Ed25519, &sk, &vk), (&sig::ED25519, &b64(&jwk, "x")), ("ed25519-dalek 3", &eddsa), n);
}
