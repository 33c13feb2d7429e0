//! The sender's brand on every page: an accent colour, checked so that what it colours stays
//! readable (WCAG 2 contrast), with the colours derived from it for text on it and for the dark
//! scheme.

use super::Invalid;

/// WCAG 2 level AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;
/// The page's cards in the light scheme (links in the accent are read on it).
const LIGHT_CARD: [u8; 3] = [0xff, 0xff, 0xff];
/// The cards of the dark scheme (`--card` in style/main.css).
const DARK_CARD: [u8; 3] = [0x17, 0x1c, 0x23];

/// A colour `#rrggbb` that reads on the light scheme's cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent([u8; 3]);

impl Accent {
    /// `#rrggbb` (or `rrggbb`); refused when text in it on a white card would read below 4.5:1
    /// (`brand_accent_too_light`).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let hex = raw.trim().trim_start_matches('#');
        let bad = || Invalid::new("brand_accent", "brand_accent_invalid");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        let rgb = [byte(0)?, byte(2)?, byte(4)?];
        if contrast(rgb, LIGHT_CARD) < MIN_CONTRAST {
            return Err(Invalid::new("brand_accent", "brand_accent_too_light"));
        }
        Ok(Self(rgb))
    }

    pub fn hex(self) -> String {
        hex(self.0)
    }

    /// Text on the accent (buttons): white or near-black, whichever reads better.
    pub fn on_accent(self) -> &'static str {
        on(self.0)
    }

    /// The accent for the dark scheme: the same hue mixed with white until it reads at 4.5:1 on
    /// the dark cards.
    pub fn dark(self) -> String {
        hex(self.dark_rgb())
    }

    /// Text on the dark scheme's accent.
    pub fn on_dark(self) -> &'static str {
        on(self.dark_rgb())
    }

    fn dark_rgb(self) -> [u8; 3] {
        (0..=20)
            .map(|step| mix_white(self.0, f64::from(step) / 20.0))
            .find(|c| contrast(*c, DARK_CARD) >= MIN_CONTRAST)
            .unwrap_or([0xff, 0xff, 0xff])
    }

    /// The style sheet that puts the accent on every page (after the site's own).
    pub fn stylesheet(self) -> String {
        format!(
            ":root {{ --accent: {}; --on-accent: {}; }}\n\
             @media (prefers-color-scheme: dark) {{ :root {{ --accent: {}; --on-accent: {}; }} }}\n",
            self.hex(),
            self.on_accent(),
            self.dark(),
            self.on_dark()
        )
    }
}

/// The sender's brand: the accent and the logo, each optional (Doui's own look without them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Brand {
    pub accent: Option<Accent>,
    pub logo: Option<Logo>,
}

/// The largest logo accepted: it is sent with every page's header.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// A logo image, kept in memory and served at [`Logo::path`] (its name changes with its content,
/// so browsers may keep it for good).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: std::sync::Arc<[u8]>,
    pub content_type: &'static str,
    pub path: String,
}

impl Logo {
    /// A PNG, JPEG, WebP or SVG image of at most [`MAX_LOGO_BYTES`], told by its content.
    pub fn new(bytes: Vec<u8>) -> Result<Self, Invalid> {
        if bytes.is_empty() || bytes.len() > MAX_LOGO_BYTES {
            return Err(Invalid::new("brand_logo", "brand_logo_size"));
        }
        let head = &bytes[..bytes.len().min(512)];
        let text = String::from_utf8_lossy(head).to_ascii_lowercase();
        let (content_type, ext) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ("image/png", "png")
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            ("image/jpeg", "jpg")
        } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            ("image/webp", "webp")
        } else if text.trim_start().starts_with('<') && text.contains("<svg") {
            ("image/svg+xml", "svg")
        } else {
            return Err(Invalid::new("brand_logo", "brand_logo_format"));
        };
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            bytes: bytes.into(),
            content_type,
            path: format!("/brand/logo-{tag}.{ext}"),
        })
    }
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn on(rgb: [u8; 3]) -> &'static str {
    if contrast(rgb, [0xff; 3]) >= contrast(rgb, [0x0f, 0x13, 0x18]) {
        "#ffffff"
    } else {
        "#0f1318"
    }
}

fn mix_white(rgb: [u8; 3], t: f64) -> [u8; 3] {
    rgb.map(|c| (f64::from(c) + (255.0 - f64::from(c)) * t).round() as u8)
}

/// WCAG 2 relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let [r, g, b] = rgb.map(|c| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    });
    0.2126 * r + 0.7152 * g + 0.0722 * b
}

/// WCAG 2 contrast ratio (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accent_is_a_hex_colour_that_reads_on_white() {
        assert_eq!(Accent::parse("#C8102E").unwrap().hex(), "#c8102e");
        assert_eq!(Accent::parse("0b5394").unwrap().hex(), "#0b5394");
        for bad in ["", "#fff", "red", "#12345g", "#1234567"] {
            assert_eq!(
                Accent::parse(bad).unwrap_err().problem,
                "brand_accent_invalid",
                "{bad}"
            );
        }
        // Yellow text on white is unreadable (about 1.1:1).
        assert_eq!(
            Accent::parse("#ffdd00").unwrap_err().problem,
            "brand_accent_too_light"
        );
    }

    #[test]
    fn text_on_it_and_its_dark_variant_read_at_aa() {
        for raw in [
            "#c8102e", "#0b5394", "#1f6feb", "#000000", "#6b21a8", "#595959",
        ] {
            let a = Accent::parse(raw).unwrap();
            let rgb = |h: &str| {
                let b = |i| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
                [b(1), b(3), b(5)]
            };
            let light = rgb(&a.hex());
            let dark = rgb(&a.dark());
            assert!(contrast(light, LIGHT_CARD) >= MIN_CONTRAST, "{raw}");
            assert!(
                contrast(dark, DARK_CARD) >= MIN_CONTRAST,
                "{raw} dark {}",
                a.dark()
            );
            assert!(
                contrast(light, rgb(a.on_accent())) >= MIN_CONTRAST,
                "{raw} on"
            );
            assert!(
                contrast(dark, rgb(a.on_dark())) >= MIN_CONTRAST,
                "{raw} on dark"
            );
        }
        // The published figures: black on white is 21:1.
        assert!((contrast([0; 3], [255; 3]) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn a_logo_is_an_image_told_by_its_content_named_by_its_digest() {
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0; 8]].concat();
        let logo = Logo::new(png.clone()).unwrap();
        assert_eq!(logo.content_type, "image/png");
        assert!(logo.path.starts_with("/brand/logo-") && logo.path.ends_with(".png"));
        assert_ne!(Logo::new([png, vec![1]].concat()).unwrap().path, logo.path);
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec();
        assert_eq!(Logo::new(svg).unwrap().content_type, "image/svg+xml");
        assert_eq!(
            Logo::new(b"GIF89a....".to_vec()).unwrap_err().problem,
            "brand_logo_format"
        );
        assert_eq!(
            Logo::new(Vec::new()).unwrap_err().problem,
            "brand_logo_size"
        );
        let big = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; MAX_LOGO_BYTES]].concat();
        assert_eq!(Logo::new(big).unwrap_err().problem, "brand_logo_size");
    }

    #[test]
    fn the_stylesheet_sets_both_schemes() {
        let css = Accent::parse("#c8102e").unwrap().stylesheet();
        assert!(css.starts_with(":root { --accent: #c8102e; --on-accent: #ffffff; }"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
