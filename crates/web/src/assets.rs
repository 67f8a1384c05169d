//! The workspace's static files, embedded in the binary and served under content-hash names
//! (`/static/app.<hash>.css`): a changed file gets a new URL, so every file can be cached for a
//! year without a browser ever running stale code. Vendored libraries and their licences:
//! `assets/vendor/VENDORED.md`.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// The name pages ask for (`app.css`).
    name: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        body: include_bytes!("../assets/app.css"),
        content_type: "text/css; charset=utf-8",
    },
    Asset {
        name: "app.js",
        body: include_bytes!("../assets/app.js"),
        content_type: JS,
    },
    Asset {
        name: "charts.js",
        body: include_bytes!("../assets/charts.js"),
        content_type: JS,
    },
    Asset {
        name: "bigscreen.js",
        body: include_bytes!("../assets/bigscreen.js"),
        content_type: JS,
    },
    Asset {
        name: "grid.js",
        body: include_bytes!("../assets/grid.js"),
        content_type: JS,
    },
    Asset {
        name: "echarts.js",
        body: include_bytes!("../assets/vendor/echarts/echarts.common.min.js"),
        content_type: JS,
    },
];

/// `(hashed name, asset)`: `app.css` → `app.1a2b3c4d5e6f7a8b.css`.
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = hex::encode(&Sha256::digest(a.body)[..8]);
            let hashed = match a.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", a.name),
            };
            (hashed, a)
        })
        .collect()
});

/// The URL of an asset by its plain name.
pub fn url(name: &str) -> String {
    HASHED
        .iter()
        .find(|(_, a)| a.name == name)
        .map(|(hashed, _)| format!("/static/{hashed}"))
        .unwrap_or_else(|| format!("/static/{name}"))
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let Some((_, asset)) = HASHED.iter().find(|(hashed, _)| *hashed == file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "no such file\n",
        )
            .into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_content_hash_url() {
        for a in ASSETS {
            let u = url(a.name);
            assert!(
                u.starts_with("/static/") && u.len() > a.name.len() + 17,
                "{u}"
            );
            let file = u.trim_start_matches("/static/");
            assert!(HASHED.iter().any(|(h, _)| h == file));
        }
    }
}
