//! Lambda functions.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![TableDef::resource(
        "aws_lambda_function",
        "lambda",
        "A Lambda function. `mtime` is when its code or configuration last changed.",
        &["lambda:ListFunctions", "lambda:ListTags"],
        &[
            C::new(
                "runtime",
                Text,
                "Runtime (`python3.12`, `nodejs20.x`, ...).",
            ),
            C::new("handler", Text, "Handler."),
            C::new("role", Text, "ARN of the execution role."),
            C::new(
                "code_size_bytes",
                Int64,
                "Size of the deployment package in bytes.",
            ),
            C::new(
                "memory_size_bytes",
                Int64,
                "Memory in bytes (the API's MB × 2^20).",
            ),
            C::new("timeout_seconds", Int64, "Timeout in seconds."),
            C::new("description", Text, "Description."),
            C::new("package_type", Text, "`Zip` or `Image`."),
            C::new("architectures", Json, "Instruction set architectures."),
            C::new("version", Text, "Version (`$LATEST`)."),
        ],
    )]
}
