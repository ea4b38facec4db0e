using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Scheduler.Infrastructure.Security;

/// <summary>
/// The master key that encrypts the Data Protection key ring, which lives in the database next
/// to the ciphertext it protects: without the master key a dump of the database decrypts
/// nothing. From <c>Secrets:MasterKey</c> (base64 of 32 bytes, e.g. an environment variable
/// filled from a Kubernetes Secret), <c>Secrets:MasterKeyFile</c> (a file holding that base64),
/// or an X.509 certificate (<c>Secrets:CertificateFile</c>, a PKCS#12 file, with
/// <c>Secrets:CertificatePassword</c>). Without one the server refuses to start.
/// </summary>
internal static class MasterKey
{
    public const string Section = "Secrets";
    public const int Bytes = 32;

    /// <summary>The AES-256 key of <c>Secrets:MasterKey</c> or <c>Secrets:MasterKeyFile</c>; null when a certificate is configured instead.</summary>
    public static byte[]? Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var text = section["MasterKey"];
        var file = section["MasterKeyFile"];
        if (string.IsNullOrWhiteSpace(text) && !string.IsNullOrWhiteSpace(file))
        {
            if (!File.Exists(file))
                throw new InvalidOperationException($"Secrets:MasterKeyFile names '{file}', which does not exist.");
            text = File.ReadAllText(file);
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            if (!string.IsNullOrWhiteSpace(section["CertificateFile"]))
                return null;
            throw new InvalidOperationException(
                "No master key: the Data Protection key ring (which encrypts connections and channel secrets in the database) must be encrypted by a key kept outside the database. " +
                "Set Secrets__MasterKey (base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | base64`), Secrets__MasterKeyFile (a file holding it) " +
                "or Secrets__CertificateFile (+ Secrets__CertificatePassword). ./run.sh generates .local/master.key on first start. See docs/operations.md, 'Secrets and the master key'.");
        }
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("The master key (Secrets:MasterKey or the file of Secrets:MasterKeyFile) is not base64.");
        }
        if (key.Length != Bytes)
            throw new InvalidOperationException($"The master key must be {Bytes} bytes (base64 of {Bytes} random bytes); it is {key.Length}.");
        return key;
    }

    /// <summary>Encrypts every key the ring stores from now on with the master key (or the certificate); see <see cref="Read"/>.</summary>
    public static IDataProtectionBuilder ProtectKeysWithMasterKey(this IDataProtectionBuilder builder, IConfiguration configuration)
    {
        var key = Read(configuration);
        if (key is null)
        {
            var section = configuration.GetSection(Section);
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(section["CertificateFile"]!, section["CertificatePassword"]);
            return builder.ProtectKeysWithCertificate(certificate);
        }
        builder.Services.AddSingleton(new MasterKeyMaterial(key));
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlEncryptor = new AesGcmXmlEncryptor(sp.GetRequiredService<MasterKeyMaterial>())));
        return builder;
    }
}

/// <summary>The master key's bytes, for the decryptor Data Protection creates by type name.</summary>
internal sealed class MasterKeyMaterial(byte[] key)
{
    public byte[] Key { get; } = key;
}

/// <summary>
/// AES-256-GCM over a key element's XML: <c>&lt;encryptedKey nonce tag&gt;ciphertext&lt;/encryptedKey&gt;</c>,
/// all base64. The element name is authenticated as associated data.
/// </summary>
internal sealed class AesGcmXmlEncryptor(MasterKeyMaterial master) : IXmlEncryptor
{
    internal const string ElementName = "encryptedKey";
    internal static readonly byte[] AssociatedData = "scheduler-key-ring-v1"u8.ToArray();

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(master.Key, tag.Length))
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData);
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement(ElementName,
            new XAttribute("nonce", Convert.ToBase64String(nonce)),
            new XAttribute("tag", Convert.ToBase64String(tag)),
            Convert.ToBase64String(ciphertext));
        return new EncryptedXmlInfo(element, typeof(AesGcmXmlDecryptor));
    }
}

/// <summary>The decryptor named in each encrypted key element; created by Data Protection with the service provider.</summary>
internal sealed class AesGcmXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var master = services.GetService<MasterKeyMaterial>()
            ?? throw new CryptographicException("The key ring holds keys encrypted with a master key, and none is configured (Secrets:MasterKey or Secrets:MasterKeyFile).");
        var nonce = Convert.FromBase64String((string)encryptedElement.Attribute("nonce")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Attribute("tag")!);
        var ciphertext = Convert.FromBase64String(encryptedElement.Value);
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(master.Key, tag.Length);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, AesGcmXmlEncryptor.AssociatedData);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new CryptographicException("A key of the key ring does not decrypt with the configured master key: it was stored under another one.", e);
        }
        return XElement.Parse(System.Text.Encoding.UTF8.GetString(plaintext));
    }
}
