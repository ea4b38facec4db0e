using System.Reflection;
using NetArchTest.Rules;

namespace Scheduler.UnitTests.Architecture;

/// <summary>
/// Modules talk only through each other's Contracts; everything else stays internal.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private static readonly Assembly Server = typeof(Program).Assembly;
    private const string Root = "Scheduler.Modules.";

    private static IReadOnlyList<string> Modules() =>
        Server.GetTypes().Select(t => t.Namespace).OfType<string>()
            .Where(ns => ns.StartsWith(Root, StringComparison.Ordinal))
            .Select(ns => ns[Root.Length..].Split('.')[0])
            .Distinct().Order().ToList();

    [Fact]
    public void Modules_AreFound()
    {
        // All six and only these: a module missing here (a moved namespace) would escape the
        // rules below unnoticed, and a new one is added here on purpose.
        Assert.Equal(["Access", "Audit", "Dags", "Notifications", "Runs", "Workers"], Modules());
    }

    [Fact]
    public void Modules_DependOnOtherModulesOnlyThroughContracts()
    {
        var failures = new List<string>();
        foreach (var module in Modules())
        {
            foreach (var other in Modules().Where(m => m != module))
            {
                var forbidden = Server.GetTypes()
                    .Where(t => t.Namespace is { } ns && ns.StartsWith($"{Root}{other}.", StringComparison.Ordinal) | t.Namespace == Root + other)
                    .Where(t => t.Namespace != $"{Root}{other}.Contracts")
                    .Select(t => t.FullName!)
                    .ToArray();
                if (forbidden.Length == 0)
                    continue;
                var result = Types.InAssembly(Server)
                    .That().ResideInNamespace(Root + module)
                    .ShouldNot().HaveDependencyOnAny(forbidden)
                    .GetResult();
                if (!result.IsSuccessful)
                    failures.AddRange(result.FailingTypeNames.Select(t => $"{t} uses {other} internals"));
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void OnlyContractsArePublic()
    {
        var visible = Server.GetTypes()
            .Where(t => t.IsVisible && t.Namespace is { } ns && ns.StartsWith("Scheduler.", StringComparison.Ordinal))
            .Where(t => !t.Namespace!.EndsWith(".Contracts", StringComparison.Ordinal))
            .Select(t => t.FullName)
            .ToList();
        Assert.Empty(visible);
    }
}
