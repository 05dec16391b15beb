import CICUShim
#if canImport(Glibc)
import Glibc
#endif

/// Throughput of the full normalizer against ICU's own NFC loop on the same generated
/// multilingual text, in one process (so machine noise hits both alike).
public enum NormalizationBenchmark {
    public struct Measurement: Sendable {
        public var name: String
        public var megabytesPerSecond: Double
    }

    public struct Report: Sendable {
        public var documents: Int
        public var megabytes: Double
        public var glossa: Measurement
        /// unorm2_normalize over UTF-16 buffers prepared in advance (the bare ICU loop).
        public var rawICU: Measurement
        /// The same ICU loop plus the String <-> UTF-16 conversions a Swift caller pays.
        public var rawICUWithConversion: Measurement
        public var ratioToRawICU: Double { glossa.megabytesPerSecond / rawICU.megabytesPerSecond }
        public var ratioToRawICUWithConversion: Double { glossa.megabytesPerSecond / rawICUWithConversion.megabytesPerSecond }
    }

    /// Sentences in many scripts; documents are random mixes of them with realistic noise.
    static let sentences: [String] = [
        "The quick brown fox jumps over the lazy dog while the build server restarts.",
        "Le déploiement a échoué à cause d'une dépendance manquante dans l'image.",
        "Die Übersetzung der Oberfläche ist fast fertig, nur die Fehlermeldungen fehlen noch.",
        "El cliente informó que la factura llegó dos veces este mes.",
        "A atualização do servidor foi concluída sem interrupções.",
        "Сервер перезапустился после обновления, но очередь задач не очистилась.",
        "Η εφαρμογή κλείνει απροσδόκητα όταν ανοίγω τις ρυθμίσεις.",
        "تم إصلاح الخطأ في صفحة الدفع، يرجى التحقق مرة أخرى.",
        "می‌خواهم گزارش هفتگی را به زبان فارسی دریافت کنم.",
        "המערכת לא שולחת הודעות אימייל מאז אתמול בערב.",
        "कृपया इस टिकट को प्राथमिकता के साथ हल करें, ग्राहक इंतज़ार कर रहा है।",
        "আমাদের দল আগামী সপ্তাহে নতুন সংস্করণ প্রকাশ করবে।",
        "இந்த பிழை புதிய பதிப்பில் சரி செய்யப்பட்டுள்ளது.",
        "ระบบจะปิดปรับปรุงในคืนวันเสาร์นี้ตั้งแต่เวลาสี่ทุ่ม",
        "服务器在凌晨三点自动重启，日志中没有发现错误。",
        "這個功能在下一個版本中會提供繁體中文介面。",
        "ログイン画面でパスワードを入力するとエラーが表示されます。",
        "결제 페이지에서 오류가 발생하여 주문이 완료되지 않았습니다.",
        "Bản cập nhật mới đã sửa lỗi đồng bộ hóa dữ liệu.",
        "Sunucu güncellemesinden sonra İstanbul ofisindeki yazıcılar çalışmıyor.",
        "ქართული ინტერფეისი მზად არის ტესტირებისთვის.",
        "Հաճախորդը խնդրում է վերադարձնել գումարը։",
        "Tiketi hii imefungwa baada ya mteja kuthibitisha suluhisho.",
        "Deploy done 👍 team 👩\u{200D}💻👨\u{200D}💻 celebrating 🎉",
        "    if let value = cache[key] { return value }",
    ]

    static let noise: [String] = ["\u{00A0}", "\u{200B}", "  ", "\r\n", "\u{200E}", "e\u{301}", "\u{3000}", "\t", "\u{FEFF}"]

    public static func makeDocuments(megabytes: Double, seed: UInt64 = 1) -> [String] {
        var rng = seed
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        var docs: [String] = []
        var total = 0
        let target = Int(megabytes * 1_000_000)
        while total < target {
            var doc = ""
            let count = 3 + next(18)
            for k in 0..<count {
                if k > 0 { doc += next(6) == 0 ? "\n" : " " }
                doc += sentences[next(sentences.count)]
                if next(12) == 0 { doc += noise[next(noise.count)] }
            }
            total += doc.utf8.count
            docs.append(doc)
        }
        return docs
    }

    public static func run(megabytes: Double = 32, repetitions: Int = 3) -> Report {
        let docs = makeDocuments(megabytes: megabytes)
        let bytes = docs.reduce(0) { $0 + $1.utf8.count }
        let mb = Double(bytes) / 1_000_000
        let normalizer = Normalizer()
        _ = normalizer.normalize("warm up the character table")

        // UTF-16 laid end to end for the bare ICU loop.
        var units: [UInt16] = []
        var offsets: [Int64] = [0]
        for d in docs { units.append(contentsOf: d.utf16); offsets.append(Int64(units.count)) }
        let longest = zip(offsets.dropFirst(), offsets).map { Int($0 - $1) }.max() ?? 0
        var scratch = [UInt16](repeating: 0, count: longest * 3 + 16)

        var best = (glossa: Double.infinity, raw: Double.infinity, conv: Double.infinity)
        var sink = 0
        for _ in 0..<repetitions {
            var t = now()
            for d in docs { sink &+= normalizer.normalize(d).text.utf8.count }
            best.glossa = min(best.glossa, now() - t)

            t = now()
            let capacity = Int32(scratch.count)
            sink &+= Int(units.withUnsafeBufferPointer { u in
                offsets.withUnsafeBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { s in
                        glossa_nfc_loop(u.baseAddress, o.baseAddress, Int32(docs.count), s.baseAddress, capacity)
                    }
                }
            })
            best.raw = min(best.raw, now() - t)

            t = now()
            for d in docs { sink &+= UnicodeForms.normalize(d, form: .nfc).utf8.count }
            best.conv = min(best.conv, now() - t)
        }
        precondition(sink != 0)
        return Report(
            documents: docs.count, megabytes: mb,
            glossa: Measurement(name: "glossa Normalizer (NFC + all cleanup steps)", megabytesPerSecond: mb / best.glossa),
            rawICU: Measurement(name: "raw unorm2_normalize loop (UTF-16 prepared)", megabytesPerSecond: mb / best.raw),
            rawICUWithConversion: Measurement(name: "raw ICU NFC incl. String<->UTF-16", megabytesPerSecond: mb / best.conv))
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
