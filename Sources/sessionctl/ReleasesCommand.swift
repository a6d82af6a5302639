import ArgumentParser
import Foundation
import SessionStore

struct ReleasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "releases",
        abstract: "Print the resource releases a durable subscription has not acknowledged yet.",
        discussion: """
            Releases done by any process on the file (a close, the sweeper of `serve`, another service), \
            one a line, oldest first. With --ack each printed release is acknowledged after it is printed, \
            so the next run starts after it; without it they are printed again next time (at least once). \
            With --follow the command keeps printing new releases until interrupted. With --json: one \
            array of releases ({"seq","releasedAt","sessionKey","userId","dataSource","kind","name","bytes",\
            "createdAt","reason"}, absent fields null); with --follow, one release object a line (JSON Lines).
            """)

    @Argument(help: ArgumentHelp("The durable subscription's name (its acknowledged position is kept under it).", valueName: "name"))
    var name: String?
    @Option(name: .customLong("subscription"), help: ArgumentHelp("The older way to give NAME.", visibility: .hidden))
    var subscriptionOption: String?
    @Flag(help: "Acknowledge the printed releases.") var ack = false
    @Flag(help: "Keep printing new releases until interrupted.") var follow = false
    @Option(help: "Without --follow, at most this many releases.") var limit = 1000
    @OptionGroup var global: GlobalOptions

    /// The subscription, given as NAME (as `subscribe` takes it) or, as before, --subscription.
    private var subscription: String { name ?? subscriptionOption ?? "" }

    func validate() throws {
        guard (name == nil) != (subscriptionOption == nil) else { throw ValidationError("give the subscription's NAME once") }
    }

    func run() async throws {
        let subscription = self.subscription
        try await withStoreUntilStopped(global) { store in
            let releases = try store.resourceReleases(subscription: subscription)
            var pending: [ResourceRelease] = []
            try await ConsumerOutput<ResourceReleases>(
                follow: follow, ack: ack, seq: \.seq, acknowledge: { try await releases.acknowledge(through: $0) },
                print: printRelease, printPending: printReleases
            ).run(
                pending: {
                    pending = try await releases.listPending(limit: limit)
                    return pending
                }, stream: { releases })
            guard !global.json else { return }
            try await ListingNote.pending(
                store, printed: pending.count, last: pending.last?.seq, limit: limit, kind: EventKind.resourceReleased,
                noun: "releases", acknowledged: ack
            ).map(ListingNote.print)
        }
    }

    private func printReleases(_ pending: [ResourceRelease]) throws {
        if global.json {
            try global.output.printJSON(pending)
        } else {
            try pending.forEach(printRelease)
        }
    }

    private func printRelease(_ release: ResourceRelease) throws {
        if global.json {
            try global.output.printJSON(release)
        } else {
            Output.printLine(
                "\(release.seq)  \(release.releasedAt.iso8601)  \(release.sessionKey)  \(release.kind)  \(release.name)  "
                    + "\(release.bytes)  \(release.reason ?? "-")")
        }
    }
}
