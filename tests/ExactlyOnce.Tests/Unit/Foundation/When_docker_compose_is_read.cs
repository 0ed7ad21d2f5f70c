using YamlDotNet.RepresentationModel;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>No Docker engine runs here, so the compose file is checked by parsing it.</summary>
[Trait("Kind", "Unit")]
public sealed class When_docker_compose_is_read
{
    private static readonly YamlMappingNode Services = Load();

    [Fact]
    public void Should_declare_postgres_two_silos_and_the_client()
    {
        Assert.Equal(["client", "postgres", "silo1", "silo2"], Services.Children.Keys.Select(k => k.ToString()).Order());
        Assert.StartsWith("postgres:", Scalar(Service("postgres"), "image"));
        Assert.Contains("55432:5432", Sequence(Service("postgres"), "ports"));
        Assert.Equal("Silo/Dockerfile", Scalar((YamlMappingNode)Service("silo1")["build"], "dockerfile"));
        Assert.Equal("Client/Dockerfile", Scalar((YamlMappingNode)Service("client")["build"], "dockerfile"));
        Assert.True(File.Exists(Path.Combine(RepoRoot, "Silo", "Dockerfile")));
        Assert.True(File.Exists(Path.Combine(RepoRoot, "Client", "Dockerfile")));
    }

    [Theory]
    [InlineData("silo1")]
    [InlineData("silo2")]
    [InlineData("client")]
    public void Should_give_every_orleans_service_the_connection_string_and_cluster_identity(string service)
    {
        var environment = Environment(service);
        var keys = environment.Keys.ToList();
        Assert.Contains("ConnectionStrings__Orleans", keys);
        Assert.Contains("Cluster__ClusterId", keys);
        Assert.Contains("Cluster__ServiceId", keys);
        Assert.Contains("Host=postgres;", environment["ConnectionStrings__Orleans"]);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("silo1")]
    [InlineData("silo2")]
    public void Should_health_check_the_servers(string service)
    {
        var test = ((YamlMappingNode)Service(service)["healthcheck"])["test"];
        Assert.NotEmpty(test.ToString());
    }

    [Theory]
    [InlineData("silo1", "30000:30000", "8080:8080")]
    [InlineData("silo2", "30001:30000", "8081:8080")]
    public void Should_publish_only_each_silos_gateway_and_http_endpoint(string silo, string gateway, string http)
    {
        Assert.Equal([gateway, http], Sequence(Service(silo), "ports"));
        Assert.Equal(["CMD", "dotnet", "ExactlyOnce.Silo.dll", "health"], Sequence((YamlMappingNode)Service(silo)["healthcheck"], "test"));
    }

    [Fact]
    public void Should_run_the_silo_on_the_aspnet_runtime_it_serves_http_with()
    {
        var dockerfile = File.ReadAllText(Path.Combine(RepoRoot, "Silo", "Dockerfile"));
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile);
        Assert.Contains("CMD [\"dotnet\", \"ExactlyOnce.Silo.dll\", \"health\"]", dockerfile);
    }

    [Theory]
    [InlineData("Silo")]
    [InlineData("Client")]
    public void Should_run_the_program_as_a_user_that_is_not_root(string program)
    {
        // The last USER of the final stage is the user the container runs as (root when there is none).
        var lines = File.ReadAllLines(Path.Combine(RepoRoot, program, "Dockerfile")).Select(l => l.Trim()).ToList();
        var finalStage = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase));
        var user = lines.Skip(finalStage).LastOrDefault(l => l.StartsWith("USER ", StringComparison.OrdinalIgnoreCase))?[5..].Trim();
        Assert.True(user is not null, $"{program}/Dockerfile: no USER in the final stage, so its container runs as root");
        var name = user.Split(':')[0];
        // $APP_UID is set by the .NET images to the uid of their 'app' user, 1654.
        Assert.True(name is "app" or "$APP_UID" or "${APP_UID}" || (int.TryParse(name, out var uid) && uid > 0),
            $"{program}/Dockerfile: USER {user} is root or unknown");
    }

    [Fact]
    public void Should_make_each_silo_advertise_its_own_service_name()
    {
        foreach (var silo in new[] { "silo1", "silo2" })
        {
            var environment = Environment(silo);
            Assert.Equal(silo, environment["Silo__AdvertisedAddress"]);
        }
    }

    private static string RepoRoot => RepoPaths.RequireRoot();

    private static YamlMappingNode Load()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepoRoot, "docker-compose.yml"));
        yaml.Load(reader); // resolves the x-orleans-env anchor and merge keys
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return (YamlMappingNode)root["services"];
    }

    private static YamlMappingNode Service(string name) => (YamlMappingNode)Services[name];

    /// <summary>A service's environment with YAML merge keys (&lt;&lt;: *anchor) applied, as Compose does.</summary>
    private static Dictionary<string, string> Environment(string service)
    {
        var result = new Dictionary<string, string>();
        foreach (var (key, value) in ((YamlMappingNode)Service(service)["environment"]).Children)
        {
            if (key.ToString() == "<<")
            {
                foreach (var (mergedKey, mergedValue) in ((YamlMappingNode)value).Children)
                {
                    result.TryAdd(mergedKey.ToString(), mergedValue.ToString());
                }
            }
            else
            {
                result[key.ToString()] = value.ToString();
            }
        }

        return result;
    }

    private static string Scalar(YamlMappingNode node, string key) => node[key].ToString();

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        ((YamlSequenceNode)node[key]).Children.Select(c => c.ToString()).ToList();
}
