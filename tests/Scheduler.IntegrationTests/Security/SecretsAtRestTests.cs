using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scheduler.Abstractions;
using Scheduler.IntegrationTests.Audit;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Infrastructure.Security;

namespace Scheduler.IntegrationTests.Security;

/// <summary>
/// A dump of the database reveals no secret: the ciphertext's keys are in it, but encrypted by
/// the master key, which the database never holds. Rotation re-encrypts every secret.
/// </summary>
public sealed class SecretsAtRestTests(ServerFixture server) : ServerTest(server)
{
    private const string Password = "pg-Dump-Must-Not-Show-7731";
    private const string HookSecret = "xoxb-dump-must-not-show-9925";

    private async Task StoreSecretsAsync()
    {
        await Admin.PostJsonAsync("connections", new { name = "warehouse", kind = "postgres", connection_string = $"Host=127.0.0.1;Database=w;Username=u;Password={Password}" })
            .ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("channels", $$"""{"name":"alerts","type":"slack","settings":{"webhook_url":"https://hooks.slack.example/services/{{HookSecret}}"} }""")
            .ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/api_token", $$"""{"value":"{{VariableSecret}}","secret":true}""").ExpectAsync(HttpStatusCode.Created);
    }

    private const string VariableSecret = "variable-secret-5c1e9a";

    private async Task<string> ResolvedConnectionAsync() =>
        (await Server.Services.GetRequiredService<IConnectionResolver>().ResolveAsync("warehouse", CancellationToken.None))!.ConnectionString;

    private static async Task<string> DumpAsync()
    {
        var cs = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        var file = Path.Combine(Path.GetTempPath(), $"scheduler-dump-{Guid.NewGuid():N}.sql");
        var start = new ProcessStartInfo("pg_dump") { RedirectStandardError = true };
        foreach (var arg in new[] { "-h", cs.Host!, "-p", cs.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", cs.Username!, "-d", cs.Database!, "-f", file, "--no-owner" })
            start.ArgumentList.Add(arg);
        start.Environment["PGPASSWORD"] = cs.Password;
        using var process = Process.Start(start)!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "pg_dump failed: " + errors);
        try
        {
            return await File.ReadAllTextAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task DatabaseDump_HoldsNoSecret_AndOnlyEncryptedKeys()
    {
        // Keys a database got before it had a master key stay in plaintext until a rotation.
        await Admin.PostAsync("secrets/rotate", null).ExpectAsync(HttpStatusCode.OK);
        await StoreSecretsAsync();
        Assert.Contains(Password, await ResolvedConnectionAsync());

        var dump = await DumpAsync();
        Assert.Contains("data_protection_keys", dump);
        Assert.Contains("warehouse", dump);
        Assert.DoesNotContain(Password, dump);
        Assert.DoesNotContain(HookSecret, dump);
        Assert.DoesNotContain(VariableSecret, dump);
        // The key ring in the dump: every key element encrypted (AES-GCM under the master key),
        // none with its <masterKey> value in the clear, and the master key itself nowhere.
        Assert.Contains("encryptedKey", dump);
        Assert.DoesNotContain("<masterKey", dump);
        Assert.DoesNotContain(ServerFixture.MasterKey, dump);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.data_protection_keys where xml like '%<masterKey%'"));
    }

    [Fact]
    public async Task Rotation_ReencryptsEverySecret_AndRemovesTheOldKeys()
    {
        await StoreSecretsAsync();
        var connectionBefore = await TestDatabase.ScalarAsync<string>("select secret from workers.connections where name = 'warehouse'");
        var channelBefore = await TestDatabase.ScalarAsync<string>("select secret from notifications.channels where name = 'alerts'");
        var variableBefore = await TestDatabase.ScalarAsync<string>("select value from workers.variables where name = 'api_token'");

        var rotated = await Admin.PostAsync("secrets/rotate", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, rotated.GetProperty("connections").GetInt32());
        Assert.Equal(1, rotated.GetProperty("channels").GetInt32());
        Assert.Equal(1, rotated.GetProperty("variables").GetInt32());
        Assert.NotEqual(variableBefore, await TestDatabase.ScalarAsync<string>("select value from workers.variables where name = 'api_token'"));
        Assert.True(rotated.GetProperty("revoked_keys").GetArrayLength() >= 1);
        var keyId = rotated.GetProperty("key_id").GetString()!;

        Assert.NotEqual(connectionBefore, await TestDatabase.ScalarAsync<string>("select secret from workers.connections where name = 'warehouse'"));
        Assert.NotEqual(channelBefore, await TestDatabase.ScalarAsync<string>("select secret from notifications.channels where name = 'alerts'"));
        // Both secrets under the new key; the old keys revoked, none left with plaintext key material.
        Assert.Equal(keyId, SecretProtection.KeyId((await TestDatabase.ScalarAsync<string>("select secret from workers.connections where name = 'warehouse'"))!).ToString("D"));
        Assert.Equal(keyId, SecretProtection.KeyId((await TestDatabase.ScalarAsync<string>("select secret from notifications.channels where name = 'alerts'"))!).ToString("D"));
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.data_protection_keys where friendly_name = @n", ("n", "key-" + keyId)));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.data_protection_keys where xml like '%<masterKey%'"));
        var ring = Server.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>().GetAllKeys();
        Assert.Equal([keyId], ring.Where(k => !k.IsRevoked).Select(k => k.KeyId.ToString("D")));
        // Everything still decrypts, and the channel's secret settings too.
        Assert.Contains(Password, await ResolvedConnectionAsync());
        var channels = Server.Services.GetRequiredService<Scheduler.Modules.Notifications.Channels.ChannelStore>();
        var channel = (await channels.GetAsync("alerts", CancellationToken.None))!;
        Assert.Contains(HookSecret, channels.Unprotect(channel.Secret)["webhook_url"]!.GetValue<string>());

        var entry = await Admin.OneAsync("secrets.rotate", "secrets");
        entry.AssertByBootstrapKey();
        Assert.Equal(keyId, entry.GetProperty("details").GetProperty("key_id").GetString());
        Assert.DoesNotContain(Password, entry.GetRawText());

        await Operator.PostAsync("secrets/rotate", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
    }
}
