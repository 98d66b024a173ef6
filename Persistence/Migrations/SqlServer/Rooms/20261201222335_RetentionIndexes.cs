using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pipeline.Persistence.Migrations.SqlServer.Rooms
{
    /// <inheritdoc />
    public partial class RetentionIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_rooms_Status",
                table: "rooms");

            migrationBuilder.CreateIndex(
                name: "IX_rooms_inbox_ProcessedAt",
                table: "rooms_inbox",
                column: "ProcessedAt");

            migrationBuilder.CreateIndex(
                name: "IX_rooms_Status_UpdatedAt",
                table: "rooms",
                columns: new[] { "Status", "UpdatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_rooms_inbox_ProcessedAt",
                table: "rooms_inbox");

            migrationBuilder.DropIndex(
                name: "IX_rooms_Status_UpdatedAt",
                table: "rooms");

            migrationBuilder.CreateIndex(
                name: "IX_rooms_Status",
                table: "rooms",
                column: "Status");
        }
    }
}
