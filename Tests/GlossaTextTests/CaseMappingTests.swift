import Testing
@testable import GlossaText

/// Case mapping compared by scalars: Swift's `==` would treat canonical equivalents as equal.
@Suite struct CaseMappingTests {
    @Test func turkishAndAzerbaijani() {
        #expect(CaseMapping.uppercased("istanbul ılık", locale: "tr").scalars == "İSTANBUL ILIK".scalars)
        #expect(CaseMapping.lowercased("İI", locale: "tr").scalars == "iı".scalars)
        #expect(CaseMapping.lowercased("İI", locale: "tr-TR").scalars == "iı".scalars)
        #expect(CaseMapping.uppercased("i", locale: "az").scalars == "İ".scalars)
        #expect(CaseMapping.uppercased("i", locale: "az-Latn-AZ").scalars == "İ".scalars)
        #expect(CaseMapping.titlecased("istanbul ılık", locale: "tr").scalars == "İstanbul Ilık".scalars)
        // Other languages: I/i pair up, İ lowercases to i + combining dot above.
        #expect(CaseMapping.uppercased("istanbul ılık", locale: "en").scalars == "ISTANBUL ILIK".scalars)
        #expect(CaseMapping.lowercased("İI", locale: "en").scalars == [0x69, 0x307, 0x69])
    }

    @Test func turkicFolding() {
        #expect(CaseMapping.caseFolded("Iİ", locale: "tr").scalars == "ıi".scalars)
        #expect(CaseMapping.caseFolded("Iİ", locale: "az_AZ").scalars == "ıi".scalars)
        #expect(CaseMapping.caseFolded("Iİ", locale: "en").scalars == [0x69, 0x69, 0x307])
        #expect(CaseMapping.usesTurkicFolding("TR"))
        #expect(!CaseMapping.usesTurkicFolding("tt"))
    }

    @Test func greek() {
        // Uppercase drops the tonos in Greek, keeps it elsewhere.
        #expect(CaseMapping.uppercased("άδικος", locale: "el").scalars == "ΑΔΙΚΟΣ".scalars)
        #expect(CaseMapping.uppercased("άδικος", locale: "en").scalars == "ΆΔΙΚΟΣ".scalars)
        // Final sigma in every locale.
        let lower = CaseMapping.lowercased("ΟΔΟΣ", locale: "el")
        #expect(lower.scalars == [0x3BF, 0x3B4, 0x3BF, 0x3C2])
        #expect(CaseMapping.lowercased("ΟΔΟΣ ΣΟΦΟΣ", locale: "en").scalars
            == [0x3BF, 0x3B4, 0x3BF, 0x3C2, 0x20, 0x3C3, 0x3BF, 0x3C6, 0x3BF, 0x3C2])
    }

    @Test func lithuanian() {
        // Lithuanian keeps the dot of i under an accent: Ì -> i + U+0307 + U+0300.
        #expect(CaseMapping.lowercased("Ì", locale: "lt").scalars == [0x69, 0x307, 0x300])
        #expect(CaseMapping.lowercased("Ì", locale: "en").scalars == [0xEC])
    }

    @Test func germanAndFolding() {
        #expect(CaseMapping.uppercased("straße", locale: "de").scalars == "STRASSE".scalars)
        #expect(CaseMapping.caseFolded("Straße", locale: "de").scalars == "strasse".scalars)
        // Folding has no final form: every sigma folds to σ.
        #expect(CaseMapping.caseFolded("ΣΟΦΟΣ", locale: "el").scalars == [0x3C3, 0x3BF, 0x3C6, 0x3BF, 0x3C3])
        #expect(CaseMapping.lowercased("STRASSE", locale: "de") == "strasse")
    }

    @Test func titlecase() {
        #expect(CaseMapping.titlecased("hello wORLD", locale: "en") == "Hello World")
        #expect(CaseMapping.titlecased("ijsland", locale: "nl") == "IJsland")
        #expect(CaseMapping.titlecased("ijsland", locale: "en") == "Ijsland")
    }

    @Test func emptyAndLong() {
        #expect(CaseMapping.uppercased("", locale: "tr") == "")
        #expect(CaseMapping.caseFolded("", locale: "tr") == "")
        // ß doubles in length: the output buffer must grow.
        let text = String(repeating: "ß", count: 50_000)
        #expect(CaseMapping.uppercased(text, locale: "de") == String(repeating: "SS", count: 50_000))
    }
}
