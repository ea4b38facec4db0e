using FluentValidation;
using FluentValidation.Results;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Infrastructure.Rpc;

/// <summary>
/// gRPC's counterpart of <see cref="Http.StorableInput"/>: every string of a request message
/// (nested and repeated ones included), and every string inside a <c>*_json</c> field, is
/// checked for text PostgreSQL refuses before the handler runs, so it is INVALID_ARGUMENT
/// naming the field, never INTERNAL from the database.
/// </summary>
internal static class RpcInput
{
    public static void Check(IMessage message, string prefix = "")
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var name = prefix + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated && value is System.Collections.IEnumerable items)
            {
                var i = 0;
                foreach (var item in items)
                    CheckValue(field, item, $"{name}[{i++}]");
            }
            else
                CheckValue(field, value, name);
        }
    }

    private static void CheckValue(FieldDescriptor field, object? value, string name)
    {
        switch (value)
        {
            case string text when !PostgresText.IsStorable(text):
                throw new ValidationException([new ValidationFailure(name, PostgresText.Refused)]);
            case string json when field.Name.EndsWith("_json", StringComparison.Ordinal) && json.Length > 0 && JsonText.FirstRefused(json) is { } refused:
                throw new ValidationException([new ValidationFailure($"{name}.{refused.Path}", refused.Message)]);
            case IMessage nested when field.FieldType == FieldType.Message:
                Check(nested, name + ".");
                break;
        }
    }
}
