/// The rows of one batched step (`Transformer.forward(batch:)`): each segment's tokens take
/// consecutive rows, segment after segment, and only the rows whose logits or final hidden state
/// were asked for leave the step.
struct BatchLayout {
    /// Rows in the step: all the segments' tokens.
    let rowCount: Int
    /// The rows of each segment.
    let segmentRows: [Range<Int>]
    /// Each row's position in its sequence: after the positions already in its segment's cache.
    let positions: [Int]
    /// The rows that leave the step (final-normed), in batch order.
    let outputRows: [Int]
    /// The output rows (indices into `outputRows`) that go through the head: all but the hidden
    /// states asked for with `.lastHidden`.
    let headRows: [Int]
    private let requests: [Transformer.Segment.Logits]

    init(_ batch: [Transformer.Segment]) {
        var segmentRows: [Range<Int>] = [], positions: [Int] = [], outputRows: [Int] = [], headRows: [Int] = []
        var first = 0
        for segment in batch {
            let rows = first..<(first + segment.tokens.count)
            segmentRows.append(rows)
            positions += rows.map { segment.cache.count + ($0 - first) }
            let leaving: [Int]
            switch segment.logits {
            case .none: leaving = []
            case .last, .lastHidden: leaving = [rows.upperBound - 1]
            case .all: leaving = Array(rows)
            }
            if segment.logits != .lastHidden { headRows += outputRows.count..<(outputRows.count + leaving.count) }
            outputRows += leaving
            first = rows.upperBound
        }
        rowCount = first
        self.segmentRows = segmentRows
        self.positions = positions
        self.outputRows = outputRows
        self.headRows = headRows
        requests = batch.map(\.logits)
    }

    /// Each segment's part of the step's results: rows of `logits` (`vocabulary` wide, one per
    /// head row) or its row of `hidden` (`width` wide, one per output row).
    func outputs(hidden: [Float], width: Int, logits: [Float], vocabulary: Int) -> [[Float]] {
        var out: [[Float]] = []
        var outputRow = 0, logitRow = 0
        for (request, rows) in zip(requests, segmentRows) {
            switch request {
            case .none:
                out.append([])
            case .lastHidden:
                out.append(Array(hidden[(outputRow * width)..<((outputRow + 1) * width)]))
                outputRow += 1
            case .last, .all:
                let count = request == .last ? 1 : rows.count
                out.append(Array(logits[(logitRow * vocabulary)..<((logitRow + count) * vocabulary)]))
                logitRow += count
                outputRow += count
            }
        }
        return out
    }
}
