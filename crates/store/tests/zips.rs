//! ZIP look-up and "ZIPs within N miles", on the loaded reference data.

use domain::{LatLon, Miles, Zip};
use sqlx::PgPool;
use std::collections::BTreeSet;
use store::zips::{lookup, within_radius};
use testkit::TestDatabase;

type R = anyhow::Result<()>;

fn zip(s: &str) -> anyhow::Result<Zip> {
    Zip::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}"))
}

async fn pool() -> anyhow::Result<(TestDatabase, PgPool)> {
    let db = TestDatabase::create().await?;
    let pool = PgPool::connect(&db.url).await?;
    Ok((db, pool))
}

#[tokio::test]
async fn about_42000_zip_codes_with_city_state_and_time_zone() -> R {
    let (_db, pool) = pool().await?;
    let mut conn = pool.acquire().await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM zip_codes").fetch_one(&mut *conn).await?;
    assert!((41_000..43_000).contains(&n), "{n}");
    let z = lookup(&mut conn, &zip("55401")?).await?.ok_or_else(|| anyhow::anyhow!("55401 missing"))?;
    assert_eq!((z.city.as_str(), z.state.as_str(), z.time_zone.as_str()), ("Minneapolis", "MN", "America/Chicago"));
    let hi = lookup(&mut conn, &zip("96813")?).await?.ok_or_else(|| anyhow::anyhow!("96813 missing"))?;
    assert_eq!(hi.time_zone, "Pacific/Honolulu");
    assert!(lookup(&mut conn, &zip("00000")?).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn distances_between_known_places() -> R {
    let (_db, pool) = pool().await?;
    let mut conn = pool.acquire().await?;
    // Straight-line distances between the places' centres, as published on maps (miles).
    for (from, to, lo, hi) in [
        ("55401", "55101", 8.0, 11.0),  // downtown Minneapolis – downtown Saint Paul ≈ 9.5
        ("10001", "07030", 1.0, 3.0),   // Midtown Manhattan – Hoboken ≈ 2
        ("90210", "90401", 5.5, 8.0),   // Beverly Hills – Santa Monica ≈ 7
        ("60601", "60201", 10.5, 13.5), // the Loop – Evanston ≈ 12
    ] {
        let near =
            within_radius(&mut conn, &zip(from)?, Miles(hi)).await?.ok_or_else(|| anyhow::anyhow!("{from} unknown"))?;
        let d = near.iter().find(|n| n.info.zip == to).map(|n| n.distance.0);
        let d = d.ok_or_else(|| anyhow::anyhow!("{to} is not within {hi} miles of {from}"))?;
        assert!((lo..=hi).contains(&d), "{from}–{to}: {d:.2} miles");
        let nearer = within_radius(&mut conn, &zip(from)?, Miles(lo)).await?.unwrap_or_default();
        assert!(nearer.iter().all(|n| n.info.zip != to), "{to} is farther than {lo} miles from {from}");
    }
    Ok(())
}

#[tokio::test]
async fn radius_results_are_exact_nearest_first_and_include_the_centre() -> R {
    let (_db, pool) = pool().await?;
    let mut conn = pool.acquire().await?;
    // Every loaded ZIP, to compare the indexed query against brute force.
    let all: Vec<(String, f64, f64)> =
        sqlx::query_as("SELECT zip::text, lat, lon FROM zip_codes").fetch_all(&mut *conn).await?;
    // Mid-latitudes, the far north (longitude degrees are short there) and an island.
    for centre in ["55401", "10001", "99501", "96813", "02134"] {
        let origin = lookup(&mut conn, &zip(centre)?).await?.ok_or_else(|| anyhow::anyhow!("{centre}"))?.location;
        for radius in [0.5, 5.0, 25.0, 60.0] {
            let got = within_radius(&mut conn, &zip(centre)?, Miles(radius)).await?.unwrap_or_default();
            let expected: BTreeSet<&str> = all
                .iter()
                .filter(|(_, lat, lon)| origin.distance_to(LatLon::new(*lat, *lon)).0 <= radius)
                .map(|(z, _, _)| z.as_str())
                .collect();
            let got_set: BTreeSet<&str> = got.iter().map(|n| n.info.zip.as_str()).collect();
            assert_eq!(got_set, expected, "{centre} within {radius} miles");
            assert_eq!(got.first().map(|n| (n.info.zip.as_str(), n.distance.0)), Some((centre, 0.0)), "centre first");
            assert!(got.windows(2).all(|w| w[0].distance <= w[1].distance), "nearest first");
        }
    }
    assert!(within_radius(&mut conn, &zip("00000")?, Miles(10.0)).await?.is_none(), "unknown centre");
    Ok(())
}
