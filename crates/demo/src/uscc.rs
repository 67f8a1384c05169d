//! Unified social credit codes (统一社会信用代码) for the demo's companies, with a valid
//! GB 32100-2015 check character, so that they pass the domain's validation like real ones.

const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The code of the demo company number `n`: a company (91) registered in the county (341100),
/// organisation code `MA` + 7 digits of `n`, and its check character.
pub fn demo_code(n: usize) -> String {
    let body = format!("91341100MA{:07}", n % 10_000_000);
    let sum: usize = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARSET.iter().position(|x| *x == c).unwrap_or(0) * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{body}{}", CHARSET[check] as char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_codes_pass_the_domain_check() {
        for n in [0, 1, 17, 59, 1234567] {
            let code = demo_code(n);
            assert_eq!(code.len(), 18);
            assert!(domain::Uscc::parse(&code).is_ok(), "{code}");
        }
    }
}
