import Foundation
import GRPCCore
import GRPCProtobuf
import SessionStoreCore

/// The standard gRPC server reflection service, `grpc.reflection.v1.ServerReflection`,
/// and its earlier version `grpc.reflection.v1alpha.ServerReflection` for older clients:
/// tools such as grpcurl list and describe the server's services through it without the
/// .proto files.
///
/// It answers from the descriptors of the protos under Protos/ and the files they
/// import, which Protos/generate.sh embeds: `list_services` names the SessionStore
/// services, health and reflection; `file_by_filename` and `file_containing_symbol` (a
/// fully qualified service, method, message, field or enum) answer the file with every
/// file it imports. A name it does not know, and an extension (none of the files declares
/// one), answer an `error_response` with `NOT_FOUND`, and the stream goes on.
///
/// Like the SessionStore services, it answers only callers that
/// ``SessionStoreGRPCServer/interceptors(store:authentication:trustedProxies:logger:metrics:)``
/// identified; its stream counts against the caller's ``StreamLimiter`` and ends with
/// `UNAVAILABLE` when the server drains.
public struct ReflectionService: RegistrableRPCService {
    typealias Request = Grpc_Reflection_V1_ServerReflectionRequest
    typealias Response = Grpc_Reflection_V1_ServerReflectionResponse

    let calls: CallContext

    /// The service; `drain` ends its streams when the server drains.
    public init(store: SessionStore, drain: DrainSignal = DrainSignal(), streams: StreamLimiter = StreamLimiter()) {
        self.calls = CallContext(store: store, drain: drain, streams: streams)
    }

    /// Registers `ServerReflectionInfo` of both versions with `router`.
    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        // v1alpha's messages have the same fields and numbers as v1's: both versions read
        // and write v1's.
        let methods = [
            Grpc_Reflection_V1_ServerReflection.Method.ServerReflectionInfo.descriptor,
            Grpc_Reflection_V1alpha_ServerReflection.Method.ServerReflectionInfo.descriptor,
        ]
        for method in methods {
            router.registerHandler(
                forMethod: method, deserializer: ProtobufDeserializer<Request>(), serializer: ProtobufSerializer<Response>()
            ) { request, context in
                StreamingServerResponse { writer in
                    try await serve(request.messages, to: writer, context)
                    return [:]
                }
            }
        }
    }

    /// Answers each request of the stream in turn, until the client ends it.
    func serve(_ requests: RPCAsyncSequence<Request, any Error>, to writer: RPCWriter<Response>, _ context: ServerContext)
        async throws
    {
        try await calls.stream(context) { _, _ in
            for try await request in requests {
                try await writer.write(Self.answer(request))
            }
        }
    }

    /// The response to one request, from the embedded descriptors.
    static func answer(_ request: Request, registry: Result<ReflectionRegistry, RPCError> = ReflectionRegistry.generated)
        -> Response
    {
        var response = Response()
        response.validHost = request.host
        response.originalRequest = request
        do throws(RPCError) {
            let registry = try registry.get()
            switch request.messageRequest {
            case .listServices:
                var list = Grpc_Reflection_V1_ListServiceResponse()
                list.service = registry.serviceNames.map { name in
                    var service = Grpc_Reflection_V1_ServiceResponse()
                    service.name = name
                    return service
                }
                response.listServicesResponse = list
            case .fileByFilename(let name):
                response.fileDescriptorResponse = files(try registry.fileAndDependencies(named: name))
            case .fileContainingSymbol(let symbol):
                let name = try registry.file(containingSymbol: symbol)
                response.fileDescriptorResponse = files(try registry.fileAndDependencies(named: name))
            case .fileContainingExtension(let request):
                let name = try registry.file(containingExtension: request.extensionNumber, of: request.containingType)
                response.fileDescriptorResponse = files(try registry.fileAndDependencies(named: name))
            case .allExtensionNumbersOfType(let type):
                var numbers = Grpc_Reflection_V1_ExtensionNumberResponse()
                numbers.extensionNumber = try registry.extensionNumbers(of: type)
                numbers.baseTypeName = type
                response.allExtensionNumbersResponse = numbers
            case nil:
                throw RPCError(code: .invalidArgument, message: "the request asks nothing")
            }
        } catch {
            var failure = Grpc_Reflection_V1_ErrorResponse()
            failure.errorCode = Int32(error.code.rawValue)
            failure.errorMessage = error.message
            response.errorResponse = failure
        }
        return response
    }

    private static func files(_ serialized: [Data]) -> Grpc_Reflection_V1_FileDescriptorResponse {
        var response = Grpc_Reflection_V1_FileDescriptorResponse()
        response.fileDescriptorProto = serialized
        return response
    }
}
