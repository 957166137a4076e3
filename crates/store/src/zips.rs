//! US ZIP code reference data: loading, look-up, and "ZIPs within N miles".

use domain::{LatLon, Miles, Zip};
use sqlx::{PgConnection, PgPool};

#[derive(Debug, Clone, PartialEq)]
pub struct ZipInfo {
    pub zip: String,
    pub city: String,
    pub state: String,
    pub county: String,
    pub location: LatLon,
    pub time_zone: String,
    pub active: bool,
}

/// A `zip_codes` row as selected by the queries below.
struct ZipRow {
    zip: String,
    city: String,
    state: String,
    county: String,
    lat: f64,
    lon: f64,
    time_zone: String,
    active: bool,
}

impl From<ZipRow> for ZipInfo {
    fn from(r: ZipRow) -> Self {
        ZipInfo {
            zip: r.zip,
            city: r.city,
            state: r.state,
            county: r.county,
            location: LatLon::new(r.lat, r.lon),
            time_zone: r.time_zone,
            active: r.active,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NearbyZip {
    pub info: ZipInfo,
    pub distance: Miles,
}

/// Arbitrary but fixed key for the advisory lock that keeps two nodes from loading at once.
const LOAD_LOCK: i64 = 0x5a49_5053; // "ZIPS"

/// Loads the embedded dataset when the table is empty. Runs in one transaction under an
/// advisory lock, so concurrent starts load it exactly once.
pub async fn ensure_loaded(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", LOAD_LOCK).execute(&mut *tx).await?;
    let present =
        sqlx::query_scalar!("SELECT EXISTS (SELECT 1 FROM zip_codes) AS \"present!\"").fetch_one(&mut *tx).await?;
    if present {
        return Ok(0);
    }
    let csv = dataset_csv();
    let mut copy = tx
        .copy_in_raw(
            "COPY zip_codes (zip, city, state, county, lat, lon, time_zone, kind, active) FROM STDIN WITH (FORMAT csv)",
        )
        .await?;
    copy.send(csv.into_bytes()).await?;
    let rows = copy.finish().await?;
    tx.commit().await?;
    tracing::info!(rows, "loaded US ZIP codes");
    Ok(rows)
}

/// The crate's records as CSV, skipping those without coordinates or a time zone (military).
fn dataset_csv() -> String {
    let mut out = String::with_capacity(4 << 20);
    for z in zipcodes::database() {
        let (Ok(lat), Ok(lon)) = (z.lat.parse::<f64>(), z.long.parse::<f64>()) else {
            continue;
        };
        if z.timezone.is_empty() || z.zip_code.len() != 5 {
            continue;
        }
        let fields = [
            &z.zip_code,
            &z.city,
            &z.state,
            &z.county,
            &lat.to_string(),
            &lon.to_string(),
            &z.timezone,
            &z.zip_code_type,
        ];
        for f in fields {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push_str("\",");
        }
        out.push_str(if z.active { "true\n" } else { "false\n" });
    }
    out
}

pub async fn lookup(conn: &mut PgConnection, zip: &Zip) -> Result<Option<ZipInfo>, sqlx::Error> {
    let row = sqlx::query_as!(
        ZipRow,
        r#"SELECT zip AS "zip!", city, state AS "state!", county, lat, lon, time_zone, active
           FROM zip_codes WHERE zip = $1"#,
        zip.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ZipInfo::from))
}

/// Every ZIP whose centroid lies within `radius` of `center`'s, nearest first (the centre itself
/// at distance 0). `None` when `center` is not a known ZIP.
pub async fn within_radius(
    conn: &mut PgConnection,
    center: &Zip,
    radius: Miles,
) -> Result<Option<Vec<NearbyZip>>, sqlx::Error> {
    let Some(origin) = lookup(conn, center).await? else {
        return Ok(None);
    };
    let (lo, hi) = origin.location.bounding_box(radius);
    let rows = sqlx::query_as!(
        ZipRow,
        r#"SELECT zip AS "zip!", city, state AS "state!", county, lat, lon, time_zone, active
           FROM zip_codes
           WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4"#,
        lo.lat,
        hi.lat,
        lo.lon,
        hi.lon
    )
    .fetch_all(conn)
    .await?;
    let mut nearby: Vec<NearbyZip> = rows
        .into_iter()
        .map(ZipInfo::from)
        .map(|info| NearbyZip { distance: origin.location.distance_to(info.location), info })
        .filter(|n| n.distance <= radius)
        .collect();
    nearby.sort_by(|a, b| a.distance.0.total_cmp(&b.distance.0).then_with(|| a.info.zip.cmp(&b.info.zip)));
    Ok(Some(nearby))
}

/// Every ZIP, for nodes that keep the reference data in memory.
pub async fn all(conn: &mut PgConnection) -> Result<Vec<ZipInfo>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ZipRow,
        r#"SELECT zip AS "zip!", city, state AS "state!", county, lat, lon, time_zone, active FROM zip_codes"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(ZipInfo::from).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dataset_has_about_42000_usable_zip_codes_and_escapes_quotes() {
        let csv = super::dataset_csv();
        let rows = csv.lines().count();
        assert!((41_000..43_000).contains(&rows), "{rows}");
        assert!(csv.lines().all(|l| l.matches('"').count() % 2 == 0));
    }
}
