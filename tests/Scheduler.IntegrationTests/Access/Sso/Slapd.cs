using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Net;
using System.Net.Sockets;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access.Sso;

/// <summary>
/// Debian's OpenLDAP server (slapd, installed by test.sh through scripts/ldap.sh) on a free
/// loopback port, with a configuration and an MDB database of its own in a temporary folder,
/// seeded with slapadd from an LDIF: people under ou=people, groups (groupOfNames) under
/// ou=groups. Passwords are kept in clear in the seed: slapd compares them on bind.
/// </summary>
public sealed class Slapd : IAsyncDisposable
{
    public const string Suffix = "dc=example,dc=org";
    public const string RootDn = "cn=admin," + Suffix;
    public const string RootPassword = "slapd-root-password";

    private readonly Process _process;
    private readonly string _folder;

    public int Port { get; }

    private Slapd(Process process, string folder, int port) => (_process, _folder, Port) = (process, folder, port);

    public static string PersonDn(string uid) => $"uid={uid},ou=people,{Suffix}";

    public static string GroupDn(string cn) => $"cn={cn},ou=groups,{Suffix}";

    /// <summary>Starts slapd with these people (uid, password) and groups (cn, member uids).</summary>
    public static async Task<Slapd> StartAsync(IEnumerable<(string Uid, string Password)> people, IEnumerable<(string Cn, string[] Members)> groups)
    {
        Assert.True(File.Exists("/usr/sbin/slapd"), "/usr/sbin/slapd is missing: ./test.sh installs it (scripts/ldap.sh)");
        var folder = Directory.CreateTempSubdirectory("scheduler-slapd-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        var config = Path.Combine(folder, "slapd.conf");
        await File.WriteAllTextAsync(config, $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            include /etc/ldap/schema/nis.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            pidfile {folder}/slapd.pid
            database mdb
            maxsize 10485760
            suffix "{Suffix}"
            rootdn "{RootDn}"
            rootpw {RootPassword}
            directory {folder}/data
            access to attrs=userPassword by anonymous auth by self read by * none
            access to * by * read

            """);
        var ldif = new System.Text.StringBuilder($"dn: {Suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n")
            .Append($"dn: ou=people,{Suffix}\nobjectClass: organizationalUnit\nou: people\n\n")
            .Append($"dn: ou=groups,{Suffix}\nobjectClass: organizationalUnit\nou: groups\n\n");
        foreach (var (uid, password) in people)
            ldif.Append($"dn: {PersonDn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {password}\n\n");
        foreach (var (cn, members) in groups)
        {
            ldif.Append($"dn: {GroupDn(cn)}\nobjectClass: groupOfNames\ncn: {cn}\n");
            // groupOfNames needs a member: every group holds the root DN too, so its last person can leave.
            foreach (var member in members.Select(PersonDn).Prepend(RootDn))
                ldif.Append($"member: {member}\n");
            ldif.Append('\n');
        }
        var seed = Path.Combine(folder, "seed.ldif");
        await File.WriteAllTextAsync(seed, ldif.ToString());
        await RunAsync("/usr/sbin/slapadd", "-f", config, "-l", seed);

        var port = Loopback.FreePort();
        var start = new ProcessStartInfo("/usr/sbin/slapd") { RedirectStandardError = true, RedirectStandardOutput = true };
        // -d keeps it in the foreground (a child this test owns and ends).
        foreach (var arg in new[] { "-f", config, "-h", $"ldap://127.0.0.1:{port}/", "-d", "0" })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            Assert.False(process.HasExited, "slapd exited at start: " + string.Join('\n', output));
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new Slapd(process, folder, port);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} failed ({process.ExitCode}): {await stderr} {await stdout}");
    }

    /// <summary>Adds (or removes) a person to a group, as the directory's administrator would.</summary>
    public void SetMember(string group, string uid, bool member)
    {
        using var connection = new LdapConnection(new LdapDirectoryIdentifier("127.0.0.1", Port)) { AuthType = AuthType.Basic };
        connection.SessionOptions.ProtocolVersion = 3;
        connection.Bind(new NetworkCredential(RootDn, RootPassword));
        var change = new DirectoryAttributeModification { Name = "member", Operation = member ? DirectoryAttributeOperation.Add : DirectoryAttributeOperation.Delete };
        change.Add(PersonDn(uid));
        connection.SendRequest(new ModifyRequest(GroupDn(group), change));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
