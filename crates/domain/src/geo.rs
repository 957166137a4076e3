//! Great-circle distances, used for service areas ("ZIPs within N miles") and ranking.

use serde::{Deserialize, Serialize};

/// Mean Earth radius in miles (IUGG), the figure the haversine formula is usually given with.
pub const EARTH_RADIUS_MILES: f64 = 3_958.8;

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Miles(pub f64);

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Haversine distance; accurate to well under 0.5 % at the distances plumbers drive.
    pub fn distance_to(self, other: LatLon) -> Miles {
        let (phi1, phi2) = (self.lat.to_radians(), other.lat.to_radians());
        let dphi = (other.lat - self.lat).to_radians();
        let dlambda = (other.lon - self.lon).to_radians();
        let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
        Miles(2.0 * EARTH_RADIUS_MILES * a.sqrt().asin())
    }

    /// A latitude/longitude box that contains every point within `radius` of `self`, so a
    /// database index can narrow the candidates before the exact distance is computed.
    pub fn bounding_box(self, radius: Miles) -> (LatLon, LatLon) {
        let dlat = (radius.0 / EARTH_RADIUS_MILES).to_degrees();
        // Longitude degrees shrink towards the poles; clamp so the box never divides by ~0.
        let cos_lat = self.lat.to_radians().cos().max(0.01);
        let dlon = (dlat / cos_lat).min(180.0);
        (LatLon::new(self.lat - dlat, self.lon - dlon), LatLon::new(self.lat + dlat, self.lon + dlon))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_city_distances() {
        // Reference great-circle distances between city centres.
        let nyc = LatLon::new(40.7128, -74.0060);
        let la = LatLon::new(34.0522, -118.2437);
        let d = nyc.distance_to(la).0;
        assert!((d - 2_445.0).abs() < 10.0, "NYC–LA was {d}");
        assert!(nyc.distance_to(nyc).0.abs() < 1e-9);
    }

    #[test]
    fn bounding_box_contains_the_circle() {
        let c = LatLon::new(45.0, -93.0);
        let (lo, hi) = c.bounding_box(Miles(25.0));
        for bearing in 0..360 {
            let b = f64::from(bearing).to_radians();
            // A point ~24.9 miles away in every direction lies inside the box.
            let dlat = (24.9 / EARTH_RADIUS_MILES).to_degrees() * b.cos();
            let dlon = (24.9 / EARTH_RADIUS_MILES).to_degrees() * b.sin() / c.lat.to_radians().cos();
            let p = LatLon::new(c.lat + dlat, c.lon + dlon);
            assert!(p.lat >= lo.lat && p.lat <= hi.lat && p.lon >= lo.lon && p.lon <= hi.lon);
        }
    }
}
