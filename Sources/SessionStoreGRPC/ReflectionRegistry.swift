import Foundation
import GRPCCore
import SwiftProtobuf

/// What the reflection service answers from: the files of a FileDescriptorSet by name,
/// each serialized with the names of the files it imports, and the file that defines
/// each fully qualified symbol.
struct ReflectionRegistry: Sendable {
    private struct File: Sendable {
        var serialized: Data
        var dependencies: [String]
    }

    private struct ExtensionKey: Hashable, Sendable {
        var extendee: String
        var number: Int32
    }

    private var files: [String: File] = [:]
    private var fileBySymbol: [String: String] = [:]
    private var messageTypes: Set<String> = []
    private var fileByExtension: [ExtensionKey: String] = [:]
    private var extensionNumbers: [String: [Int32]] = [:]
    /// The fully qualified names of the services the files define, sorted.
    private(set) var serviceNames: [String] = []

    /// The descriptors of the protos under Protos/ and their imports, as Protos/generate.sh
    /// embedded them; an error when they do not decode.
    static let generated: Result<ReflectionRegistry, RPCError> = {
        guard
            let data = Data(
                base64Encoded: GeneratedDescriptors.fileDescriptorSetBase64, options: .ignoreUnknownCharacters)
        else {
            return .failure(RPCError(code: .internalError, message: "the server's descriptors are not base64"))
        }
        do {
            return .success(try ReflectionRegistry(Google_Protobuf_FileDescriptorSet(serializedBytes: data)))
        } catch {
            return .failure(RPCError(code: .internalError, message: "the server's descriptors do not decode: \(error)"))
        }
    }()

    /// The registry of every file in `set`.
    init(_ set: Google_Protobuf_FileDescriptorSet) throws {
        for file in set.file {
            files[file.name] = File(serialized: try file.serializedBytes(), dependencies: file.dependency)
            index(file)
        }
        serviceNames.sort()
    }

    /// The file named `name` and every file it imports, directly or not, each once, the
    /// file itself first.
    func fileAndDependencies(named name: String) throws(RPCError) -> [Data] {
        var result: [Data] = []
        var queue = [name]
        var seen: Set<String> = [name]
        var next = 0
        while next < queue.count {
            let current = queue[next]
            next += 1
            guard let file = files[current] else {
                throw RPCError(code: .notFound, message: "no file named \(Self.quoted(current))")
            }
            result.append(file.serialized)
            for dependency in file.dependencies where seen.insert(dependency).inserted {
                queue.append(dependency)
            }
        }
        return result
    }

    /// The name of the file that defines `symbol`: a fully qualified service, method,
    /// message, field, enum, enum value or extension (a leading dot is allowed).
    func file(containingSymbol symbol: String) throws(RPCError) -> String {
        let name = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
        guard let file = fileBySymbol[name] else {
            throw RPCError(code: .notFound, message: "no symbol named \(Self.quoted(symbol))")
        }
        return file
    }

    /// The name of the file that defines extension `number` of the message type `extendee`.
    func file(containingExtension number: Int32, of extendee: String) throws(RPCError) -> String {
        guard let file = fileByExtension[ExtensionKey(extendee: Self.unqualified(extendee), number: number)] else {
            throw RPCError(code: .notFound, message: "no extension \(number) of \(Self.quoted(extendee))")
        }
        return file
    }

    /// The field numbers of the extensions of the message type `type`, sorted; none for a
    /// type without extensions.
    func extensionNumbers(of type: String) throws(RPCError) -> [Int32] {
        let name = Self.unqualified(type)
        guard messageTypes.contains(name) else {
            throw RPCError(code: .notFound, message: "no message type named \(Self.quoted(type))")
        }
        return (extensionNumbers[name] ?? []).sorted()
    }

    private mutating func index(_ file: Google_Protobuf_FileDescriptorProto) {
        let scope = file.package.isEmpty ? "" : file.package + "."
        for service in file.service {
            let name = scope + service.name
            serviceNames.append(name)
            fileBySymbol[name] = file.name
            for method in service.method { fileBySymbol[name + "." + method.name] = file.name }
        }
        for message in file.messageType { index(message, in: scope, of: file.name) }
        for type in file.enumType { index(type, in: scope, of: file.name) }
        for field in file.extension { index(extension: field, in: scope, of: file.name) }
    }

    private mutating func index(_ message: Google_Protobuf_DescriptorProto, in scope: String, of file: String) {
        let name = scope + message.name
        fileBySymbol[name] = file
        messageTypes.insert(name)
        for field in message.field { fileBySymbol[name + "." + field.name] = file }
        for nested in message.nestedType { index(nested, in: name + ".", of: file) }
        for type in message.enumType { index(type, in: name + ".", of: file) }
        for field in message.extension { index(extension: field, in: name + ".", of: file) }
    }

    private mutating func index(_ type: Google_Protobuf_EnumDescriptorProto, in scope: String, of file: String) {
        fileBySymbol[scope + type.name] = file
        // Enum values are scoped like their enum, not inside it.
        for value in type.value { fileBySymbol[scope + value.name] = file }
    }

    private mutating func index(extension field: Google_Protobuf_FieldDescriptorProto, in scope: String, of file: String) {
        fileBySymbol[scope + field.name] = file
        let extendee = Self.unqualified(field.extendee)
        fileByExtension[ExtensionKey(extendee: extendee, number: field.number)] = file
        extensionNumbers[extendee, default: []].append(field.number)
    }

    /// `name` without the leading dot of a fully qualified reference.
    private static func unqualified(_ name: String) -> String {
        name.hasPrefix(".") ? String(name.dropFirst()) : name
    }

    /// `text` for an error message: quoted, and cut short when long.
    static func quoted(_ text: String) -> String {
        text.count > 200 ? "\(String(text.prefix(200)).debugDescription)…" : text.debugDescription
    }
}
