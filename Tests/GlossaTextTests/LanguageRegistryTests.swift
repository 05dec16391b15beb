import Testing
@testable import GlossaText

@Suite struct LanguageRegistryTests {
    let all = LanguageRegistry.all

    @Test func hasExactly119Languages() {
        #expect(all.count == 119)
    }

    @Test func codesAndTagsAreUnique() {
        #expect(Set(all.map(\.code)).count == all.count)
        #expect(Set(all.map { $0.bcp47.lowercased() }).count == all.count)
    }

    @Test func familyCounts() {
        let expected: [LanguageFamily: Int] = [
            .indoEuropean: 67, .sinoTibetan: 4, .afroAsiatic: 10, .austronesian: 12,
            .dravidian: 4, .turkic: 6, .taiKadai: 2, .uralic: 3, .austroasiatic: 2, .other: 9,
        ]
        for family in LanguageFamily.allCases {
            #expect(all.filter { $0.family == family }.count == expected[family], "\(family)")
        }
    }

    @Test func lid176CoverageCounts() {
        var own = 0, parent = 0, none = 0
        for language in all {
            switch language.lid176 {
            case .own: own += 1
            case .parent: parent += 1
            case .none: none += 1
            }
        }
        #expect(own == 97)
        #expect(parent == 10)
        #expect(none == 12)
    }

    @Test func languagesWithoutLabel() {
        let unlabeled = all.filter { $0.lid176 == .none }.map(\.code)
        #expect(unlabeled == ["szl", "hne", "awa", "fao", "lij", "fur", "ban", "bjn", "pag", "pap", "kea", "tpi"])
        #expect(all.allSatisfy { ($0.lid176.label == nil) == ($0.lid176 == .none) })
    }

    @Test func labelsBelongToLID176() {
        let labels = Set(
            ("af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb "
                + "co cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv "
                + "he hi hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb "
                + "lez li lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new "
                + "nl nn no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk sl "
                + "so sq sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal xmf "
                + "yi yo yue zh").split(separator: " ").map(String.init))
        #expect(labels.count == 176)
        for language in all {
            if let label = language.lid176.label {
                #expect(labels.contains(label), "\(language.code): \(label)")
            }
        }
    }

    @Test func scriptsAreISO15924() {
        for language in all {
            #expect(!language.scripts.isEmpty, "\(language.code)")
            for script in language.scripts {
                let scalars = Array(script.unicodeScalars)
                let ok = scalars.count == 4
                    && ("A"..."Z").contains(scalars[0])
                    && scalars.dropFirst().allSatisfy { ("a"..."z").contains($0) }
                #expect(ok, "\(language.code): \(script)")
            }
        }
    }

    @Test func lookupByCode() {
        #expect(LanguageRegistry.language(code: "nob")?.name == "Norwegian Bokmål")
        #expect(LanguageRegistry.language(code: "zho_Hant")?.bcp47 == "zh-Hant")
        #expect(LanguageRegistry.language(code: "xxx") == nil)
        for language in all {
            #expect(LanguageRegistry.language(code: language.code) == language)
            #expect(LanguageRegistry.language(bcp47: language.bcp47) == language)
        }
    }

    @Test func lookupByBCP47() {
        #expect(LanguageRegistry.language(bcp47: "ZH_hant")?.code == "zho_Hant")
        #expect(LanguageRegistry.language(bcp47: "zh-Hans")?.code == "zho_Hans")
        #expect(LanguageRegistry.language(bcp47: "NB")?.code == "nob")
        #expect(LanguageRegistry.language(bcp47: "prs")?.code == "prs")
        #expect(LanguageRegistry.language(bcp47: "fa")?.code == "pes")
        #expect(LanguageRegistry.language(bcp47: "ar")?.code == "arb")
        #expect(LanguageRegistry.language(bcp47: "yue")?.code == "yue")
        #expect(LanguageRegistry.language(bcp47: "xx-Yyyy") == nil)
    }

    @Test func lookupByISO639_3() {
        #expect(LanguageRegistry.languages(iso639_3: "zho").map(\.code) == ["zho_Hans", "zho_Hant"])
        #expect(LanguageRegistry.languages(iso639_3: "eng").map(\.code) == ["eng"])
        #expect(LanguageRegistry.languages(iso639_3: "xxx").isEmpty)
    }

    @Test func lookupByLID176Label() {
        #expect(LanguageRegistry.languages(lid176Label: "__label__zh").map(\.code) == ["zho_Hans", "zho_Hant"])
        #expect(LanguageRegistry.languages(lid176Label: "zh").map(\.code) == ["zho_Hans", "zho_Hant"])
        #expect(LanguageRegistry.languages(lid176Label: "no").map(\.code) == ["nob"])
        #expect(LanguageRegistry.languages(lid176Label: "bh").map(\.code) == ["bho", "mag"])
        #expect(LanguageRegistry.languages(lid176Label: "fa").map(\.code) == ["pes", "prs"])
        let arabic = LanguageRegistry.languages(lid176Label: "__label__ar").map(\.code)
        #expect(arabic == ["arb", "ars", "apc", "ary", "acm", "acq", "aeb"])
        #expect(LanguageRegistry.languages(lid176Label: "__label__nonexistent").isEmpty)
    }

    @Test func coverageLabel() {
        #expect(LID176Coverage.own("en").label == "en")
        #expect(LID176Coverage.parent("bh").label == "bh")
        #expect(LID176Coverage.none.label == nil)
    }
}
