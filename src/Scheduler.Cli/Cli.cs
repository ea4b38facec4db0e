using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Client;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}

/// <summary>The command line was wrong (exit 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>What was asked did not work (exit 1); the message says why.</summary>
public sealed class FailedException(string message) : Exception(message);

/// <summary>Where the CLI keeps its settings: <c>$XDG_CONFIG_HOME/scheduler</c>, else <c>~/.config/scheduler</c>.</summary>
public static class CliConfig
{
    public static string Folder()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config") : xdg;
        return Path.Combine(root, "scheduler");
    }

    public static string ConfigFile => Path.Combine(Folder(), "config.json");

    public static string KeyFile => Path.Combine(Folder(), "api-key");

    /// <summary>Writes the URL and the key; the key file is created readable by its owner only (0600).</summary>
    public static void Save(Uri url, string key)
    {
        Directory.CreateDirectory(Folder());
        File.WriteAllText(ConfigFile, new JsonObject { ["url"] = url.AbsoluteUri }.ToJsonString());
        File.Delete(KeyFile);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(KeyFile, options);
        using var writer = new StreamWriter(stream);
        writer.Write(key);
    }

    /// <summary>A client from SCHEDULER_URL / SCHEDULER_API_KEY, else from what <c>login</c> stored.</summary>
    public static SchedulerClient Connect()
    {
        var url = Environment.GetEnvironmentVariable("SCHEDULER_URL");
        var key = Environment.GetEnvironmentVariable("SCHEDULER_API_KEY");
        if (string.IsNullOrEmpty(url) && File.Exists(ConfigFile))
            url = JsonNode.Parse(File.ReadAllText(ConfigFile))?["url"]?.GetValue<string>();
        if (string.IsNullOrEmpty(key) && File.Exists(KeyFile))
            key = File.ReadAllText(KeyFile).Trim();
        if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(key))
            throw new UsageException("not logged in: run 'scheduler login --url <server> --key <api key>' (or set SCHEDULER_URL and SCHEDULER_API_KEY).");
        return SchedulerClient.Create(new Uri(url), key);
    }
}

/// <summary>Options of every read command: <c>--output table|json</c>.</summary>
public class ReadSettings : CommandSettings
{
    [CommandOption("-o|--output <FORMAT>")]
    [Description("table (default) or json")]
    [DefaultValue("table")]
    public string Output { get; set; } = "table";

    public bool Json => Output == "json";

    public override ValidationResult Validate() =>
        Output is "table" or "json" ? ValidationResult.Success() : ValidationResult.Error($"--output is 'table' or 'json', not '{Output}'.");
}

public static class Output
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A response as JSON, with the API's own field names.</summary>
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));

    public static string When(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'") ?? "-";

    /// <summary>A state, coloured as the admin pages colour it.</summary>
    public static string State(string? state) => state switch
    {
        null or "" => "-",
        "success" => "[green]success[/]",
        "failed" or "upstream_failed" => $"[red]{state}[/]",
        "running" => "[blue]running[/]",
        "cancelled" or "skipped" => $"[grey]{state}[/]",
        _ => Markup.Escape(state),
    };

    public static void Write(Table table) => AnsiConsole.Write(table);
}
