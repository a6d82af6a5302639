/// The result of an async throwing call, so a task group can collect successes and
/// failures side by side.
func outcome<Value>(of body: () async throws -> Value) async -> Result<Value, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
