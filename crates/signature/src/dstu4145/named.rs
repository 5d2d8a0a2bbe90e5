//! The ten polynomial-basis curves of DSTU 4145-2002 annex G (M163 … M431), named by the OIDs
//! 1.2.804.2.1.1.1.1.3.1.1.2.{0..9}. Values as printed in the standard (big-endian hex); the
//! same numbers are in Bouncy Castle's `DSTU4145NamedCurves` and jkurwa's `standard.js`, and the
//! tests check each base point is on its curve and has order n.

use std::sync::OnceLock;

use super::curve::{Curve, Point};
use super::field::{Fe, Field, limbs_from_hex};

pub(crate) struct NamedCurve {
    pub(crate) name: &'static str,
    m: usize,
    ks: &'static [usize],
    a: u64,
    b: &'static str,
    n: &'static str,
    gx: &'static str,
    gy: &'static str,
}

pub(crate) const NAMED: [NamedCurve; 10] = [
    NamedCurve {
        name: "M163",
        m: 163,
        ks: &[3, 6, 7],
        a: 1,
        b: "5FF6108462A2DC8210AB403925E638A19C1455D21",
        n: "400000000000000000002BEC12BE2262D39BCF14D",
        gx: "2E2F85F5DD74CE983A5C4237229DAF8A3F35823BE",
        gy: "3826F008A8C51D7B95284D9D03FF0E00CE2CD723A",
    },
    NamedCurve {
        name: "M167",
        m: 167,
        ks: &[6],
        a: 1,
        b: "6EE3CEEB230811759F20518A0930F1A4315A827DAC",
        n: "3FFFFFFFFFFFFFFFFFFFFFB12EBCC7D7F29FF7701F",
        gx: "7A1F6653786A68192803910A3D30B2A2018B21CD54",
        gy: "5F49EB26781C0EC6B8909156D98ED435E45FD59918",
    },
    NamedCurve {
        name: "M173",
        m: 173,
        ks: &[1, 2, 10],
        a: 0,
        b: "108576C80499DB2FC16EDDF6853BBB278F6B6FB437D9",
        n: "800000000000000000000189B4E67606E3825BB2831",
        gx: "4D41A619BCC6EADF0448FA22FAD567A9181D37389CA",
        gy: "10B51CC12849B234C75E6DD2028BF7FF5C1CE0D991A1",
    },
    NamedCurve {
        name: "M179",
        m: 179,
        ks: &[1, 2, 4],
        a: 1,
        b: "4A6E0856526436F2F88DD07A341E32D04184572BEB710",
        n: "3FFFFFFFFFFFFFFFFFFFFFFB981960435FE5AB64236EF",
        gx: "6BA06FE51464B2BD26DC57F48819BA9954667022C7D03",
        gy: "25FBC363582DCEC065080CA8287AAFF09788A66DC3A9E",
    },
    NamedCurve {
        name: "M191",
        m: 191,
        ks: &[9],
        a: 1,
        b: "7BC86E2102902EC4D5890E8B6B4981FF27E0482750FEFC03",
        n: "40000000000000000000000069A779CAC1DABC6788F7474F",
        gx: "714114B762F2FF4A7912A6D2AC58B9B5C2FCFE76DAEB7129",
        gy: "29C41E568B77C617EFE5902F11DB96FA9613CD8D03DB08DA",
    },
    NamedCurve {
        name: "M233",
        m: 233,
        ks: &[1, 4, 9],
        a: 1,
        b: "06973B15095675534C7CF7E64A21BD54EF5DD3B8A0326AA936ECE454D2C",
        n: "1000000000000000000000000000013E974E72F8A6922031D2603CFE0D7",
        gx: "3FCDA526B6CDF83BA1118DF35B3C31761D3545F32728D003EEB25EFE96",
        gy: "9CA8B57A934C54DEEDA9E54A7BBAD95E3B2E91C54D32BE0B9DF96D8D35",
    },
    NamedCurve {
        name: "M257",
        m: 257,
        ks: &[12],
        a: 0,
        b: "1CEF494720115657E18F938D7A7942394FF9425C1458C57861F9EEA6ADBE3BE10",
        n: "800000000000000000000000000000006759213AF182E987D3E17714907D470D",
        gx: "02A29EF207D0E9B6C55CD260B306C7E007AC491CA1B10C62334A9E8DCD8D20FB7",
        gy: "10686D41FF744D4449FCCF6D8EEA03102E6812C93A9D60B978B702CF156D814EF",
    },
    NamedCurve {
        name: "M307",
        m: 307,
        ks: &[2, 4, 8],
        a: 1,
        b: "393C7F7D53666B5054B5E6C6D3DE94F4296C0C599E2E2E241050DF18B6090BDC90186904968BB",
        n: "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC079C2F3825DA70D390FBBA588D4604022B7B7",
        gx: "216EE8B189D291A0224984C1E92F1D16BF75CCD825A087A239B276D3167743C52C02D6E7232AA",
        gy: "5D9306BACD22B7FAEB09D2E049C6E2866C5D1677762A8F2F2DC9A11C7F7BE8340AB2237C7F2A0",
    },
    NamedCurve {
        name: "M367",
        m: 367,
        ks: &[21],
        a: 1,
        b: "43FC8AD242B0B7A6F3D1627AD5654447556B47BF6AA4A64B0C2AFE42CADAB8F93D92394C79A7975\
            5437B56995136",
        n: "40000000000000000000000000000000000000000000009C300B75A3FA824F22428FD28CE8812245E\
            F44049B2D49",
        gx: "324A6EDDD512F08C49A99AE0D3F961197A76413E7BE81A400CA681E09639B5FE12E59A109F78BF4A\
             373541B3B9A1",
        gy: "1AB597A5B4477F59E39539007C7F977D1A567B92B043A49C6B61984C3FE3481AAF454CD41BA1F051\
             626442B3C10",
    },
    NamedCurve {
        name: "M431",
        m: 431,
        ks: &[1, 3, 5],
        a: 1,
        b: "03CE10490F6A708FC26DFE8C3D27C4F94E690134D5BFF988D8D28AAEAEDE975936C66BAC536B18AE2D\
            C312CA493117DAA469C640CAF3",
        n: "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFBA3175458009A8C0A724F02F81AA8\
            A1FCBAF80D90C7A95110504CF",
        gx: "1A62BA79D98133A16BBAE7ED9A8E03C32E0824D57AEF72F88986874E5AAE49C27BED49A2A95058068\
             426C2171E99FD3B43C5947C857D",
        gy: "70B5E1E14031C1F70BBEFE96BDDE66F451754B4CA5F48DA241F331AA396B8D1839A855C1769B1EA14\
             BA53308B5E2723724E090E02DB9",
    },
];

impl NamedCurve {
    fn build(&self) -> Option<Curve> {
        let hex = |h: &str| limbs_from_hex(h).map(Fe);
        let mut a = Fe::ZERO;
        a.0[0] = self.a;
        Some(Curve {
            name: self.name,
            field: Field::new(self.m, self.ks)?,
            a,
            b: hex(self.b)?,
            n: limbs_from_hex(self.n)?,
            g: Point {
                x: hex(self.gx)?,
                y: hex(self.gy)?,
            },
        })
    }
}

/// The ten standard curves, for choosing one to sign with (the emulator's and test CA's keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DstuCurve {
    M163,
    M167,
    M173,
    M179,
    M191,
    M233,
    M257,
    M307,
    M367,
    M431,
}

impl DstuCurve {
    pub const ALL: [DstuCurve; 10] = [
        DstuCurve::M163,
        DstuCurve::M167,
        DstuCurve::M173,
        DstuCurve::M179,
        DstuCurve::M191,
        DstuCurve::M233,
        DstuCurve::M257,
        DstuCurve::M307,
        DstuCurve::M367,
        DstuCurve::M431,
    ];

    /// The last arc of the curve's OID 1.2.804.2.1.1.1.1.3.1.1.2.x (its place in annex G).
    pub fn index(self) -> usize {
        self as usize
    }

    /// "M257" etc.
    pub fn name(self) -> &'static str {
        NAMED[self.index()].name
    }

    pub fn from_name(name: &str) -> Option<DstuCurve> {
        DstuCurve::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Every table entry builds (the test `named_curves_are_consistent` checks it), so this is
    /// always Some; callers turn None into an error rather than a panic.
    pub(crate) fn curve(self) -> Option<&'static Curve> {
        named_curve(self.index())
    }
}

/// Curve number `index` (the last arc of its OID), built once.
pub(crate) fn named_curve(index: usize) -> Option<&'static Curve> {
    static CURVES: OnceLock<Vec<Option<Curve>>> = OnceLock::new();
    CURVES
        .get_or_init(|| NAMED.iter().map(NamedCurve::build).collect())
        .get(index)?
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table entry parses, its base point is on the curve, has order n (so a typo in any
    /// constant fails here), and compresses to what decompresses back to it.
    #[test]
    fn named_curves_are_consistent() {
        for (i, nc) in NAMED.iter().enumerate() {
            let c = named_curve(i).unwrap_or_else(|| panic!("{} does not parse", nc.name));
            assert!(c.contains(&c.g), "{}: G not on the curve", nc.name);
            assert!(c.is_valid_key(&c.g), "{}: n·G ≠ O", nc.name);
            let xc = c.compress(&c.g);
            assert_eq!(c.decompress(&xc), Some(c.g), "{}", nc.name);
        }
        assert!(named_curve(10).is_none());
    }
}
