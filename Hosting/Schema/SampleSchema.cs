using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Hosting.Schema;

/// <summary>
/// The sample's schema: the library's (Orleans' tables and the core's, from
/// ExactlyOnce.Orleans.PostgreSql) plus the sample's own scripts embedded from Hosting/Schema
/// (load-run records, the send audit).
/// </summary>
public static class SampleSchema
{
    /// <summary>The sample's own scripts.</summary>
    public static IReadOnlyList<SchemaScript> Scripts { get; } =
        SchemaScript.FromEmbeddedResources(typeof(SampleSchema).Assembly, "ExactlyOnce.Sample.Schema.");

    /// <summary>A migrator for the library's scripts and the sample's.</summary>
    public static SchemaMigrator Migrator(string connectionString, ILogger? logger = null) => new(connectionString, Scripts, logger);
}
