//! The label sets: Woo relevance, topic, special categories of personal data, and the
//! refusal grounds a sensitivity finding hints at.

use crate::error::ClassifyError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! label_enum {
    ($(#[$m:meta])* $name:ident, $kind:literal, { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// Position in [`Self::ALL`]: the class index of a model head.
            pub fn index(self) -> usize {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ClassifyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    ClassifyError::UnknownLabel { kind: $kind, value: s.to_owned() }
                })
            }
        }
    };
}

label_enum!(
    /// Does the message concern the public task of the municipality (Woo art. 2.1)?
    WooRelevance, "woo relevance", {
        PubliekeTaak => "publieke_taak",
        Persoonlijk => "persoonlijk",
        Spam => "spam",
    }
);

label_enum!(
    /// The default routing topics. A tenant may use a subset; anything else is `overig`.
    Topic, "topic", {
        Afval => "afval",
        Parkeren => "parkeren",
        Vergunningen => "vergunningen",
        Belastingen => "belastingen",
        Burgerzaken => "burgerzaken",
        ZorgEnWelzijn => "zorg_en_welzijn",
        WerkEnInkomen => "werk_en_inkomen",
        OpenbareRuimte => "openbare_ruimte",
        Klachten => "klachten",
        Overig => "overig",
    }
);

label_enum!(
    /// Special categories of personal data (AVG art. 9 and 10); any of them hints at
    /// refusal ground 5.1.1d.
    SpecialCategory, "special category", {
        Gezondheid => "gezondheid",
        Religie => "religie",
        Etniciteit => "etniciteit",
        SeksueelLeven => "seksueel_leven",
        Strafrechtelijk => "strafrechtelijk",
        Politiek => "politiek",
        Vakbond => "vakbond",
    }
);

/// Woo art. 5.1 lid 1 sub d: special personal data.
pub const GROUND_SPECIAL_DATA: &str = "5.1.1d";
/// Woo art. 5.1 lid 1 sub e: national identification numbers (BSN).
pub const GROUND_IDENTIFIER: &str = "5.1.1e";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_their_names() {
        for t in Topic::ALL {
            assert_eq!(t.as_str().parse::<Topic>().ok(), Some(*t));
            assert_eq!(Topic::ALL[t.index()], *t);
        }
        assert!("afvalbak".parse::<Topic>().is_err());
        assert_eq!(
            "spam".parse::<WooRelevance>().ok(),
            Some(WooRelevance::Spam)
        );
    }
}
