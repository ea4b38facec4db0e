using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Scheduler.Modules.Access;

/// <summary>
/// Keys are <c>sk_</c> + 30 random bytes (240 bits) in base64url. With that much entropy a
/// single SHA-256 is a safe verifier (no dictionary to attack), and it lets the lookup be an
/// equality match on a unique index instead of a slow hash per stored key.
/// </summary>
internal static class ApiKeySecrets
{
    public const string Prefix = "sk_";

    public static string Generate() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(30));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>What lists show so people can tell keys apart: the first characters only.</summary>
    public static string DisplayPrefix(string key) => key.Length <= 10 ? key[..Math.Min(3, key.Length)] : key[..10];
}
