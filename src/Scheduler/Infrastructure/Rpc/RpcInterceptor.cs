using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Infrastructure.Rpc;

/// <summary>The least role a gRPC method needs: the REST endpoint's policy (<see cref="Auth.Policies"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RpcPolicyAttribute(string policy) : Attribute
{
    public string Policy { get; } = policy;
}

/// <summary>
/// The edge of every unary and server-streaming gRPC call, as GlobalExceptionHandler and the
/// role policies are for REST: the caller's API key (metadata <c>x-api-key</c>, read by the
/// same authentication handler) must hold the method's policy, and an exception becomes the
/// status REST would answer with (a method without a policy is refused: closed by default).
/// </summary>
internal sealed class RpcInterceptor(IAuthorizationService authorization, IConfiguration configuration, ILogger<RpcInterceptor> logger) : Interceptor
{
    private readonly int? _port = RpcSetup.Port(configuration);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        try
        {
            if (request is Google.Protobuf.IMessage message)
                RpcInput.Check(message);
            return await continuation(request, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw ToRpc(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context);
        try
        {
            if (request is Google.Protobuf.IMessage message)
                RpcInput.Check(message);
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw ToRpc(e, context);
        }
    }

    private async Task AuthorizeAsync(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        if (http.Connection.LocalPort != _port)
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unimplemented, $"gRPC is served on port {_port} only."));
        var policy = http.GetEndpoint()?.Metadata.GetMetadata<RpcPolicyAttribute>()?.Policy;
        if (http.User.Identity is not { IsAuthenticated: true })
        {
            var failure = (await http.AuthenticateAsync()).Failure?.Message;
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unauthenticated, failure ?? "Send a valid API key in the x-api-key metadata."));
        }
        if (policy is null || !(await authorization.AuthorizeAsync(http.User, policy)).Succeeded)
        {
            var role = http.User.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value ?? "none";
            throw new RpcException(new Grpc.Core.Status(StatusCode.PermissionDenied, $"The role '{role}' does not allow this operation."));
        }
    }

    private RpcException ToRpc(Exception exception, ServerCallContext context)
    {
        if (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
            return new RpcException(new Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled."));
        var problem = GlobalExceptionHandler.Map(exception);
        if (problem.Status >= 500)
            logger.LogError(exception, "Unhandled exception in {Method}", context.Method);
        return FromProblem(problem);
    }

    /// <summary>A REST problem as a gRPC status; a validation problem's fields become google.rpc.BadRequest field violations.</summary>
    public static RpcException FromProblem(ProblemDetails problem)
    {
        var code = Code(problem.Status ?? 500);
        var message = problem.Detail ?? problem.Title ?? "";
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation)
        {
            var bad = new Google.Rpc.BadRequest();
            foreach (var (field, messages) in validation.Errors)
                foreach (var text in messages)
                    bad.FieldViolations.Add(new Google.Rpc.BadRequest.Types.FieldViolation { Field = field, Description = text });
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(bad));
        }
        return status.ToRpcException();
    }

    /// <summary>A REST result that is a problem (404, 409...) as a gRPC status.</summary>
    public static RpcException FromProblem(ProblemHttpResult result) => FromProblem(result.ProblemDetails);

    private static StatusCode Code(int status) => status switch
    {
        400 or 422 => StatusCode.InvalidArgument,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.NotFound,
        409 => StatusCode.FailedPrecondition,
        413 or 429 => StatusCode.ResourceExhausted,
        499 => StatusCode.Cancelled,
        _ => StatusCode.Internal,
    };
}
