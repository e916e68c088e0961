//! Realistic synthetic registries for tests and benchmarks, as CKAN dump JSON lines
//! (organisations first), deterministic for a seed.

use serde_json::{json, Value};

const WORDS: &[&str] = &[
    "water",
    "sanitation",
    "health",
    "education",
    "agriculture",
    "climate",
    "energy",
    "governance",
    "humanitarian",
    "nutrition",
    "gender",
    "trade",
    "infrastructure",
    "finance",
    "housing",
    "migration",
    "peace",
    "food",
    "security",
    "resilience",
];
const COUNTRIES: &[&str] =
    &["GB", "US", "KE", "NG", "BD", "IN", "FR", "DE", "NL", "SE", "UG", "TZ", "ET", "PK", "CO", "BR"];
const TYPES: &[&str] = &["10", "15", "21", "22", "40", "60", "70", "80"];

/// A small deterministic generator (xorshift): no dependency for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[(self.next() % list.len() as u64) as usize]
    }
}

fn uuid(kind: u32, n: u64) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

/// `organisations` organisations and `datasets` datasets spread over them (a few
/// organisations publish most, as in the real registry), one JSON value per record.
pub fn registry(organisations: u64, datasets: u64, seed: u64) -> impl Iterator<Item = Value> {
    let mut rng = Rng(seed | 1);
    let orgs: Vec<Value> = (0..organisations)
        .map(|i| {
            let country = rng.pick(COUNTRIES);
            json!({
                "id": uuid(0x0a, i), "name": format!("publisher-{i:05}"), "title": format!("{} {} Agency {i}", rng.pick(WORDS), rng.pick(WORDS)),
                "type": "organization", "is_organization": true, "state": "active", "approval_status": "approved",
                "description": format!("A publisher of {} data.", rng.pick(WORDS)), "created": "2014-05-01T10:00:00.000000",
                "publisher_iati_id": format!("{country}-REG-{i:05}"), "publisher_country": country,
                "publisher_organization_type": rng.pick(TYPES), "publisher_source_type": "primary_source", "license_id": "cc-by",
                "publisher_contact_email": format!("contact@publisher{i}.example.org"), "publisher_first_publish_date": "2015-01-01T00:00:00",
            })
        })
        .collect();
    let mut rng2 = Rng(seed.wrapping_mul(31) | 1);
    let datasets = (0..datasets).map(move |i| {
        // Skewed: a fifth of the organisations hold most datasets.
        let r = rng2.next();
        let org = if r % 5 < 4 { (r >> 8) % organisations.div_ceil(5).max(1) } else { (r >> 8) % organisations.max(1) };
        let filetype = if i % 10 == 0 { "organisation" } else { "activity" };
        let (w1, w2) = (rng2.pick(WORDS), rng2.pick(WORDS));
        json!({
            "id": uuid(0x0d, i), "name": format!("publisher-{org:05}-{w1}-{i}"), "title": format!("{w1} and {w2} activities {i}"),
            "owner_org": uuid(0x0a, org), "type": "dataset", "state": "active", "private": i % 50 == 49, "license_id": "cc-by",
            "metadata_created": "2016-03-01T12:00:00.000000", "metadata_modified": format!("2024-{:02}-{:02}T10:{:02}:00", 1 + i % 12, 1 + i % 28, i % 60),
            "resources": [{"id": uuid(0x0e, i), "url": format!("https://publisher{org}.example.org/iati/{i}.xml"), "format": "IATI-XML",
                           "hash": format!("{:040x}", rng2.next()), "size": 1000 + (rng2.next() % 5_000_000), "created": "2016-03-01T12:00:00"}],
            "extras": [{"key": "filetype", "value": filetype}, {"key": "iati_version", "value": "2.03"},
                       {"key": "activity_count", "value": (rng2.next() % 2000).to_string()}, {"key": "country", "value": rng2.pick(COUNTRIES)},
                       {"key": "language", "value": "en"}, {"key": "data_updated", "value": "2024-06-01 10:00:00"}],
        })
    });
    orgs.into_iter().chain(datasets)
}
