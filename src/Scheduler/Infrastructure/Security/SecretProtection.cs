using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Scheduler.Infrastructure.Security;

/// <summary>
/// Reading stored secrets (connections, channels) across a key rotation. A rotation revokes the
/// old keys once everything is re-encrypted, but another replica may not have read the new
/// ring yet and store a secret under a revoked key meanwhile: such a secret still decrypts (a
/// revoked key here means rotated out, not compromised) and the next rotation moves it.
/// </summary>
internal static class SecretProtection
{
    public static string Unprotect(IDataProtector protector, string protectedText)
    {
        if (protector is not IPersistedDataProtector persisted)
            return protector.Unprotect(protectedText);
        var plain = persisted.DangerousUnprotect(Decode(protectedText), ignoreRevocationErrors: true, out _, out _);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Text that is no payload fails as any undecryptable one does, as the framework's own string overload has it.</summary>
    private static byte[] Decode(string protectedText)
    {
        try
        {
            return WebEncoders.Base64UrlDecode(protectedText);
        }
        catch (FormatException e)
        {
            throw new System.Security.Cryptography.CryptographicException("The stored secret is not a Data Protection payload.", e);
        }
    }

    /// <summary>The id of the key a payload was protected with: after the 4-byte magic header, 16 bytes.</summary>
    public static Guid KeyId(string protectedText) => new(Decode(protectedText).AsSpan(4, 16));
}
