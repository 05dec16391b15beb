import Foundation

/// Text for HTML: element content and quoted attribute values alike. Everything a report shows
/// may come from outside (reject reasons, labels, languages, the YAML), so all of it goes
/// through here.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newline are not allowed in HTML text.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// Small inline SVG charts for the run report: horizontal bars and lines. Drawn here rather
/// than by a script library, so that the report is one file that fetches and runs nothing.
public enum SVGChart {
    /// Colours of the lines (and of the bars: the first), readable on white.
    static let palette = ["#2f6fb0", "#d9822b", "#3a9a5b", "#b0413e", "#7b5ea7", "#8c6d31", "#4a9aa8", "#c75d9b"]

    /// One bar per item, largest first as given, labels on the left and values on the right.
    /// Beyond `maxBars` items the rest are summed into one bar ("N others") so a long tail
    /// (e.g. a hundred languages) keeps the chart readable. Each bar carries `data-label` and
    /// `data-value`, so a test (or a script of the user's) can read the chart back.
    public static func bars(_ items: [(label: String, value: Double)], id: String, title: String, maxBars: Int = 30,
                            width: Int = 760) -> String {
        var shown = Array(items.prefix(maxBars))
        // The scale is that of the bars shown one by one: a summed tail would dwarf them.
        let largest = shown.map { $0.value }.filter(\.isFinite).max() ?? 0
        if items.count > maxBars {
            shown.append(("\(items.count - maxBars) others", items.dropFirst(maxBars).reduce(0) { $0 + $1.value }))
        }
        let rowHeight = 19, top = 6, labelWidth = 170, valueWidth = 80
        let height = top * 2 + max(1, shown.count) * rowHeight
        let barSpace = Double(width - labelWidth - valueWidth - 10)
        var svg = "<svg id=\"\(HTML.escape(id))\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<title>\(HTML.escape(title))</title>"
        if shown.isEmpty {
            svg += "<text x=\"4\" y=\"\(top + 15)\" class=\"muted\">nothing counted</text>"
        }
        for (i, item) in shown.enumerated() {
            let y = top + i * rowHeight
            let value = item.value.isFinite ? max(0, item.value) : 0
            let isTail = items.count > maxBars && i == maxBars
            // The tail's bar stops at the longest one's length (its value is written beside it).
            let length = largest > 0 ? min(barSpace, barSpace * value / largest) : 0
            let label = item.label.count > 24 ? String(item.label.prefix(23)) + "…" : item.label
            svg += "<g class=\"bar\" data-label=\"\(HTML.escape(item.label))\" data-value=\"\(format(value))\">"
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 13)\" text-anchor=\"end\">\(HTML.escape(label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(format(max(length, value > 0 ? 1 : 0)))\" height=\"\(rowHeight - 5)\" fill=\"\(isTail ? "#9aa5b1" : palette[0])\"/>"
            svg += "<text x=\"\(format(Double(labelWidth) + length + 5))\" y=\"\(y + 13)\">\(format(value))</text></g>"
        }
        return svg + "</svg>"
    }

    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// Lines over a shared x axis starting at 0, with axes, round-number ticks and a legend
    /// when there is more than one series. A series of one point is drawn as a dot.
    public static func lines(_ series: [Series], id: String, title: String, xLabel: String, yLabel: String,
                             width: Int = 760, height: Int = 260) -> String {
        let left = 64.0, right = 16.0, top = 12.0, bottom = 40.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let all = series.flatMap { $0.points }.filter { $0.x.isFinite && $0.y.isFinite }
        let xMax = niceCeiling(all.map { $0.x }.max() ?? 1), yMax = niceCeiling(all.map { $0.y }.max() ?? 1)
        func px(_ x: Double) -> Double { left + plotW * max(0, x) / xMax }
        func py(_ y: Double) -> Double { top + plotH * (1 - max(0, y) / yMax) }
        var svg = "<svg id=\"\(HTML.escape(id))\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<title>\(HTML.escape(title))</title>"
        // Grid and ticks: five steps on each axis.
        for k in 0...4 {
            let yv = yMax * Double(k) / 4, xv = xMax * Double(k) / 4
            svg += "<line x1=\"\(format(left))\" y1=\"\(format(py(yv)))\" x2=\"\(format(left + plotW))\" y2=\"\(format(py(yv)))\" class=\"grid\"/>"
            svg += "<text x=\"\(format(left - 6))\" y=\"\(format(py(yv) + 4))\" text-anchor=\"end\" class=\"tick\">\(format(yv))</text>"
            svg += "<text x=\"\(format(px(xv)))\" y=\"\(format(top + plotH + 16))\" text-anchor=\"middle\" class=\"tick\">\(format(xv))</text>"
        }
        svg += "<line x1=\"\(format(left))\" y1=\"\(format(top + plotH))\" x2=\"\(format(left + plotW))\" y2=\"\(format(top + plotH))\" class=\"axis\"/>"
        svg += "<line x1=\"\(format(left))\" y1=\"\(format(top))\" x2=\"\(format(left))\" y2=\"\(format(top + plotH))\" class=\"axis\"/>"
        svg += "<text x=\"\(format(left + plotW / 2))\" y=\"\(height - 6)\" text-anchor=\"middle\" class=\"tick\">\(HTML.escape(xLabel))</text>"
        svg += "<text x=\"12\" y=\"\(format(top + plotH / 2))\" text-anchor=\"middle\" class=\"tick\" transform=\"rotate(-90 12 \(format(top + plotH / 2)))\">\(HTML.escape(yLabel))</text>"
        if all.isEmpty {
            svg += "<text x=\"\(format(left + 10))\" y=\"\(format(top + 20))\" class=\"muted\">no points</text>"
        }
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            svg += "<g class=\"series\" data-series=\"\(HTML.escape(s.name))\" data-points=\"\(points.count)\">"
            if points.count == 1, let p = points.first {
                svg += "<circle cx=\"\(format(px(p.x)))\" cy=\"\(format(py(p.y)))\" r=\"4\" fill=\"\(color)\"/>"
            } else if points.count > 1 {
                let coordinates = points.map { "\(format(px($0.x))),\(format(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            if series.count > 1 {
                let ly = top + 14 * Double(i) + 6
                svg += "<rect x=\"\(format(left + plotW - 120))\" y=\"\(format(ly - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
                svg += "<text x=\"\(format(left + plotW - 105))\" y=\"\(format(ly + 1))\" class=\"tick\">\(HTML.escape(s.name))</text>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    /// The smallest 1, 2, 4, 6 or 8 times a power of ten at or above `x` (an axis's end): its
    /// quarters, the ticks, are short numbers (0.5, 1, 1.5, 2).
    static func niceCeiling(_ x: Double) -> Double {
        guard x.isFinite, x > 0 else { return 1 }
        let power = pow(10, floor(log10(x)))
        for step in [1.0, 2, 4, 6, 8, 10] where step * power >= x * (1 - 1e-12) { return step * power }
        return 10 * power
    }

    /// Whole numbers without a fraction, others with at most two decimals (no exponent for the
    /// values a report shows).
    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        let rounded = (x * 100).rounded() / 100
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(format: "%.2f", rounded).replacingOccurrences(of: #"0$"#, with: "", options: .regularExpression)
    }
}
