import Foundation

/// The Prometheus text exposition format (0.0.4) read line by line, with the rules a
/// scraper holds an exposition to: one `# HELP` and one `# TYPE` per family, before its
/// samples; counter names ending in `_total`; every sample named after the family it
/// follows; no series twice.
struct PrometheusExposition {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
        var series: String { name + "{" + labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",") + "}" }
    }

    struct Family {
        let name: String
        var help: String?
        var type: String?
        var samples: [Sample] = []
    }

    private(set) var families: [Family] = []
    private(set) var violations: [String] = []

    init(_ text: String) throws {
        var seenSeries = Set<String>()
        var seenFamilies = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 3 else { throw PrometheusText.ParseError(line: line) }
                let name = parts[2]
                let rest = parts.count > 3 ? parts[3] : ""
                if families.last?.name != name {
                    if seenFamilies.contains(name) { violations.append("family \(name) appears twice") }
                    seenFamilies.insert(name)
                    families.append(Family(name: name))
                }
                let index = families.count - 1
                if !families[index].samples.isEmpty { violations.append("\(line) after the samples of \(name)") }
                if parts[1] == "HELP" {
                    if families[index].help != nil { violations.append("two HELP lines for \(name)") }
                    families[index].help = rest
                } else {
                    if families[index].type != nil { violations.append("two TYPE lines for \(name)") }
                    families[index].type = rest
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            let parsed = try PrometheusText.parse(line)
            guard let sample = parsed.samples.first else { throw PrometheusText.ParseError(line: line) }
            let labeled = Sample(name: sample.name, labels: sample.labels, value: sample.value)
            guard let family = families.last else {
                violations.append("\(sample.name) before any family")
                continue
            }
            if !Self.belongs(labeled.name, to: family) { violations.append("\(labeled.name) follows family \(family.name)") }
            if !seenSeries.insert(labeled.series).inserted { violations.append("series \(labeled.series) twice") }
            families[families.count - 1].samples.append(labeled)
        }
        for family in families {
            if family.help?.isEmpty ?? true { violations.append("no HELP for \(family.name)") }
            guard let type = family.type else {
                violations.append("no TYPE for \(family.name)")
                continue
            }
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(type) {
                violations.append("unknown type \(type) of \(family.name)")
            }
            if type == "counter" && !family.name.hasSuffix("_total") {
                violations.append("counter \(family.name) does not end in _total")
            }
        }
    }

    /// Whether a sample of `name` is one of `family`'s: its name, or for a histogram or
    /// summary its `_bucket`, `_sum` and `_count` series.
    private static func belongs(_ name: String, to family: Family) -> Bool {
        switch family.type {
        case "histogram": [family.name + "_bucket", family.name + "_sum", family.name + "_count"].contains(name)
        case "summary": [family.name, family.name + "_sum", family.name + "_count"].contains(name)
        default: name == family.name
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        families.lazy.flatMap(\.samples).first { $0.name == name && $0.labels == labels }?.value
    }
}
