//! The enrolment page's QR code: a picture, so it lives with the pages.

/// The QR code of the `otpauth` URL, as an SVG to put in the page.
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_url_draws_as_svg() {
        let url = services::infra::totp::otpauth_url(&services::infra::totp::new_secret(), "ops@plumberleads.example");
        assert!(super::qr_svg(&url).contains("<svg"));
    }
}
