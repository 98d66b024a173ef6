using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.PostgreSql.Sandboxes
{
    /// <inheritdoc />
    public partial class StaleSandboxesAndOutbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "StaleAt",
                table: "sandboxes",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sandboxes_outbox",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ReceiptId = table.Column<Guid>(type: "uuid", nullable: true),
                    MessageType = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LockedUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LockedBy = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    LastError = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    TraceParent = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sandboxes_outbox", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_State_LastEventAt",
                table: "sandboxes",
                columns: new[] { "State", "LastEventAt" });

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_TeamId_CreatedAt",
                table: "sandboxes",
                columns: new[] { "TeamId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_outbox_ReceiptId",
                table: "sandboxes_outbox",
                column: "ReceiptId");

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_outbox_SentAt_CreatedAt",
                table: "sandboxes_outbox",
                columns: new[] { "SentAt", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sandboxes_outbox");

            migrationBuilder.DropIndex(
                name: "IX_sandboxes_State_LastEventAt",
                table: "sandboxes");

            migrationBuilder.DropIndex(
                name: "IX_sandboxes_TeamId_CreatedAt",
                table: "sandboxes");

            migrationBuilder.DropColumn(
                name: "StaleAt",
                table: "sandboxes");
        }
    }
}
