import Foundation
import Testing

/// Sizes a person reads are in B, KiB, MiB or GiB in text output; JSON keeps bytes.
@Suite struct CLIHumanSizesTests {
    @Test func resourcesAndTheFileShowTheirSizesInBinaryUnits() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        _ = try await db.object(["resource", "add", key, "artifact", "udfs.jar", "--bytes", "1572864"])
        _ = try await db.object(["resource", "add", key, "temp-view", "v", "--bytes", "512"])
        let text = try await db.run(["resource", "list", key])
        #expect(text.status == 0)
        let rows = text.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.first?.contains("SIZE") == true, "\(text.stdout)")
        #expect(text.stdout.contains("udfs.jar  1.5 MiB") && text.stdout.contains("v         512 B"), "\(text.stdout)")
        let json = try await db.array(["resource", "list", key])
        #expect(Set(json.compactMap { $0["bytes"] as? Int }) == [1_572_864, 512])

        let status = try await db.run(["status"])
        let fileSize = status.stdout.split(separator: "\n").first { $0.hasPrefix("file size:") } ?? ""
        #expect(fileSize.hasSuffix(" KiB") || fileSize.hasSuffix(" MiB"), "\(status.stdout)")
        let statusJSON = try await db.object(["status"])
        #expect(statusJSON["fileBytes"] is Int, "\(statusJSON)")
    }

    @Test func benchPrintsMemoryAndFileSizesInBinaryUnits() async throws {
        let text = try await Sessionctl.run(["bench", "--scenario", "get", "--sessions", "100", "--operations", "1000"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.contains("PEAK RSS  FILE") == true, "\(text.stdout)")
        let row = String(lines.last ?? "")
        #expect(row.wholeMatch(of: #/.* \d+(\.\d)? MiB +\d+(\.\d)? (KiB|MiB) .*/#) != nil, "\(row)")
        let json = try await Sessionctl.run(["bench", "--scenario", "get", "--sessions", "100", "--operations", "1000", "--json"])
        let run = try #require((try json.json() as? [[String: Any]])?.first)
        #expect((run["peakRSSBytes"] as? Int ?? 0) > 1_048_576)
    }
}
