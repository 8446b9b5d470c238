using System.Diagnostics.CodeAnalysis;
using Bulwark.Server.Hosting;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Api;

/// <summary>
/// Creates each call's gRPC service object with the member's started <see cref="NodeHost"/> from the
/// <see cref="NodeSlot"/>, and refuses the call while the node is still starting (storage open, log replay): gRPC
/// Unavailable with the "catching up" message and the not-proposed trailer, so etcd clients and Bulwark.Client go to
/// another member. The node is passed to the constructor rather than registered in the container, which would
/// otherwise own (and dispose) it.
/// </summary>
public sealed class StartedNodeServiceActivator<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TService>(NodeSlot slot)
    : IGrpcServiceActivator<TService>
    where TService : class
{
    private static readonly bool NeedsNode = typeof(TService).GetConstructors()
        .Any(constructor => constructor.GetParameters().Any(parameter => parameter.ParameterType == typeof(NodeHost)));

    public GrpcActivatorHandle<TService> Create(IServiceProvider serviceProvider)
    {
        if (!NeedsNode)
        {
            return new(ActivatorUtilities.CreateInstance<TService>(serviceProvider), created: true, state: null);
        }

        var node = slot.Node ?? throw NodeErrorStatus.ToRpcException(NodeSlot.NotStarted());
        return new(ActivatorUtilities.CreateInstance<TService>(serviceProvider, node), created: true, state: null);
    }

    public ValueTask ReleaseAsync(GrpcActivatorHandle<TService> service)
    {
        if (service.Created)
        {
            if (service.Instance is IAsyncDisposable asyncDisposable)
            {
                return asyncDisposable.DisposeAsync();
            }

            (service.Instance as IDisposable)?.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
