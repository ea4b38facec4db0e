using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Infrastructure.Security;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class MasterKeyTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static IConfiguration Config(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("Secrets:" + s.Key, s.Value))).Build();

    [Fact]
    public void Read_Refuses_WhenNoKeyIsConfigured()
    {
        var e = Assert.Throws<InvalidOperationException>(() => MasterKey.Read(Config()));
        Assert.Contains("Secrets__MasterKey", e.Message);
        Assert.Contains("run.sh", e.Message);
    }

    [Fact]
    public void Read_Refuses_KeysThatAreNotBase64Of32Bytes()
    {
        Assert.Contains("base64", Assert.Throws<InvalidOperationException>(() => MasterKey.Read(Config(("MasterKey", "not base64!")))).Message);
        Assert.Contains("32 bytes", Assert.Throws<InvalidOperationException>(() => MasterKey.Read(Config(("MasterKey", Convert.ToBase64String(new byte[16]))))).Message);
        Assert.Contains("does not exist", Assert.Throws<InvalidOperationException>(() => MasterKey.Read(Config(("MasterKeyFile", "/nonexistent/master.key")))).Message);
    }

    [Fact]
    public void Read_TakesTheEnvironmentValue_OrTheFile()
    {
        Assert.Equal(Convert.FromBase64String(Key), MasterKey.Read(Config(("MasterKey", Key))));
        var file = Path.GetTempFileName();
        File.WriteAllText(file, Key + "\n");
        try
        {
            Assert.Equal(Convert.FromBase64String(Key), MasterKey.Read(Config(("MasterKeyFile", file))));
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Null(MasterKey.Read(Config(("CertificateFile", "/some/cert.pfx"))));
    }

    private static IServiceProvider With(byte[] key) => new ServiceCollection().AddSingleton(new MasterKeyMaterial(key)).BuildServiceProvider();

    [Fact]
    public void AesGcm_RoundTrips_AndHidesTheKeyMaterial()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var plain = XElement.Parse("""<descriptor><masterKey><value>c2VjcmV0LWtleS1tYXRlcmlhbA==</value></masterKey></descriptor>""");
        var encrypted = new AesGcmXmlEncryptor(new MasterKeyMaterial(key)).Encrypt(plain);
        Assert.Equal(typeof(AesGcmXmlDecryptor), encrypted.DecryptorType);
        Assert.DoesNotContain("c2VjcmV0LWtleS1tYXRlcmlhbA", encrypted.EncryptedElement.ToString());
        Assert.DoesNotContain("masterKey", encrypted.EncryptedElement.ToString());
        Assert.Equal(plain.ToString(), new AesGcmXmlDecryptor(With(key)).Decrypt(encrypted.EncryptedElement).ToString());
    }

    [Fact]
    public void AesGcm_Refuses_AnotherKey_AndTamperedText()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var encrypted = new AesGcmXmlEncryptor(new MasterKeyMaterial(key)).Encrypt(XElement.Parse("<k>v</k>")).EncryptedElement;
        Assert.Contains("another", Assert.Throws<CryptographicException>(() => new AesGcmXmlDecryptor(With(RandomNumberGenerator.GetBytes(32))).Decrypt(encrypted)).Message);
        var tampered = new XElement(encrypted);
        var bytes = Convert.FromBase64String(tampered.Value);
        bytes[0] ^= 1;
        tampered.Value = Convert.ToBase64String(bytes);
        Assert.Throws<CryptographicException>(() => new AesGcmXmlDecryptor(With(key)).Decrypt(tampered));
        Assert.Throws<CryptographicException>(() => new AesGcmXmlDecryptor(new ServiceCollection().BuildServiceProvider()).Decrypt(encrypted));
    }
}
