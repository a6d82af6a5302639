import Foundation
import SessionStore
import Testing

/// Session keys are UUIDs in the version 7 layout: a millisecond time prefix, so new keys
/// land at the right edge of the key indexes, and 74 random bits, so they stay
/// unguessable.
@Suite("Session keys: layout")
struct SessionKeyLayoutTests {
    /// Milliseconds since the Unix epoch on the system clock (keys use real time, not the
    /// store's injected clock: the prefix is about index order, not session semantics).
    private static func systemMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    @Test func keysAreVersion7UUIDsStampedWithTheTimeOfTheOpen() async throws {
        let test = TestStore()
        let (keys, before, after) = try await test.withStore { store in
            let before = Self.systemMilliseconds()
            var keys: [String] = []
            for index in 0..<200 {
                keys.append(try await store.openSession(userId: "user-\(index % 7)").key)
            }
            let after = Self.systemMilliseconds()
            return (keys, before, after)
        }

        #expect(Set(keys).count == keys.count)
        for key in keys {
            let characters = Array(key)
            #expect(characters.count == 36)
            #expect(UUID(uuidString: key) != nil, "\(key)")
            #expect(key == key.lowercased(), "\(key)")
            #expect(characters[14] == "7", "version nibble of \(key)")
            #expect("89ab".contains(characters[19]), "variant of \(key)")
            let prefix = String(characters[0..<8]) + String(characters[9..<13])
            let stamp = try #require(Int64(prefix, radix: 16))
            #expect(stamp >= before - 1 && stamp <= after + 1, "\(key) is stamped \(stamp), outside \(before)...\(after)")
        }
        // Keys made at least a millisecond apart sort in the order they were made.
        let stamps = keys.map { Int64(String(Array($0)[0..<8]) + String(Array($0)[9..<13]), radix: 16) ?? -1 }
        #expect(stamps == stamps.sorted(), "time prefixes go backwards")
    }

    @Test func keysOfOneMillisecondDifferInTheirRandomBits() async throws {
        let test = TestStore()
        let keys = try await test.withStore { store in
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<64 {
                    group.addTask { try await store.openSession(userId: "user-\(index)").key }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            return keys
        }
        #expect(Set(keys).count == 64)
        // The 74 random bits: the last 16 hex digits hold 62 of them. Sixty-four keys
        // agreeing in all of those would mean the generator is not random.
        let tails = Set(keys.map { String($0.suffix(12)) })
        #expect(tails.count == 64)
        // Every stored key is the one the caller got back.
        let stored = try test.inspect { db in try db.fetchAll(sql: "SELECT key FROM sessions ORDER BY id") { $0.string(0) } }
        #expect(Set(stored) == Set(keys))
    }
}
