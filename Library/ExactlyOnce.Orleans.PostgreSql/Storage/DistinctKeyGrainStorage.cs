using Orleans.Storage;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Grain storage that gives every distinct grain key its own stored state: it forwards to
/// <paramref name="inner"/> with the key mapped by <see cref="StorageKeys.ToStorageId"/>, so the
/// ADO.NET provider no longer folds keys such as "1" and "01" into one row.
/// </summary>
internal sealed class DistinctKeyGrainStorage(IGrainStorage inner) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        inner.ReadStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState, cancellationToken);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.WriteStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        inner.WriteStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState, cancellationToken);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        inner.ClearStateAsync(stateName, StorageKeys.ToStorageId(grainId), grainState, cancellationToken);
}
