import Foundation
import Testing
@testable import GlossaText

/// Foundation carries its own ICU; with the system ICU linked too, five C++ symbols exist
/// twice. This guards the link order in Package.swift: both must keep working side by side.
@Suite struct LinkOrderTests {
    @Test func foundationAndSystemICUAgreeOnTurkishCasing() {
        let text = "istanbul ılık"
        let foundation = text.uppercased(with: Locale(identifier: "tr_TR"))
        let glossa = CaseMapping.uppercased(text, locale: "tr")
        #expect(foundation.scalars == "İSTANBUL ILIK".scalars)
        #expect(glossa.scalars == foundation.scalars)
        #expect(ICU.version.hasPrefix("72."))
    }
}
