using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.SqlServer.Credits
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "credits_accounts",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    Username = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: true),
                    Balance = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    IsLow = table.Column<bool>(type: "bit", nullable: false),
                    IsExhausted = table.Column<bool>(type: "bit", nullable: false),
                    LowNotifiedAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    ExhaustedNotifiedAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    LastSequence = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    LastUsageAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    Version = table.Column<int>(type: "int", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credits_accounts", x => x.UserId);
                });

            migrationBuilder.CreateTable(
                name: "credits_inbox",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Consumer = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    ProcessedAt = table.Column<DateTime>(type: "datetime2", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credits_inbox", x => new { x.MessageId, x.Consumer });
                });

            migrationBuilder.CreateTable(
                name: "credits_ledger",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    UserId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Amount = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    BalanceAfter = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    Reference = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    Model = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: true),
                    Quota = table.Column<long>(type: "bigint", nullable: true),
                    MessageId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    OccurredAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "datetime2", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credits_ledger", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "credits_outbox",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    ReceiptId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    MessageType = table.Column<string>(type: "nvarchar(300)", maxLength: 300, nullable: false),
                    Body = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    SentAt = table.Column<DateTime>(type: "datetime2", nullable: true),
                    LockedUntil = table.Column<DateTime>(type: "datetime2", nullable: true),
                    LockedBy = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    Attempts = table.Column<int>(type: "int", nullable: false),
                    LastError = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credits_outbox", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "credits_webhook_logs",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    EventId = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    UserId = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: true),
                    Status = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Error = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    ReceiptId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    LedgerEntryId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    ProcessedAt = table.Column<DateTime>(type: "datetime2", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credits_webhook_logs", x => x.MessageId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_credits_ledger_Kind_Reference",
                table: "credits_ledger",
                columns: new[] { "Kind", "Reference" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_credits_ledger_UserId_Sequence",
                table: "credits_ledger",
                columns: new[] { "UserId", "Sequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_credits_outbox_ReceiptId",
                table: "credits_outbox",
                column: "ReceiptId");

            migrationBuilder.CreateIndex(
                name: "IX_credits_outbox_SentAt_CreatedAt",
                table: "credits_outbox",
                columns: new[] { "SentAt", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_credits_webhook_logs_EventId",
                table: "credits_webhook_logs",
                column: "EventId");

            migrationBuilder.CreateIndex(
                name: "IX_credits_webhook_logs_Status_ProcessedAt",
                table: "credits_webhook_logs",
                columns: new[] { "Status", "ProcessedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "credits_accounts");

            migrationBuilder.DropTable(
                name: "credits_inbox");

            migrationBuilder.DropTable(
                name: "credits_ledger");

            migrationBuilder.DropTable(
                name: "credits_outbox");

            migrationBuilder.DropTable(
                name: "credits_webhook_logs");
        }
    }
}
