import Testing

/// Polls until `condition` holds; fails the test once `limit` has passed (a guard against
/// hangs, not a measurement).
func waitUntil(
    within limit: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        try #require(ContinuousClock.now < deadline, "condition not reached within \(limit)", sourceLocation: sourceLocation)
        try await Task.sleep(for: .milliseconds(5))
    }
}
